"""The benchmarks run their own stack of subprocesses: none of the in-process fixtures apply."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_tables():
    """No-op: the benchmarks' PostgreSQL lives and dies with the test (and the shared one is never started)."""
    yield
