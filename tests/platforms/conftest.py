"""Adapter tests talk to respx mocks only: no database, no Redis."""

import pytest


@pytest.fixture(autouse=True)
def clean_tables():
    """Overrides the suite-wide table truncation: these tests never touch PostgreSQL."""
    yield
