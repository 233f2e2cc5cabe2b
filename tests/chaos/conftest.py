"""The chaos test runs its own stack of subprocesses: none of the in-process fixtures apply."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_tables():
    """No-op: the chaos run's PostgreSQL lives and dies with the test; the shared one is never started."""
    yield
