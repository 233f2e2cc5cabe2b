"""Test harness: a real PostgreSQL (built by running the migrations) and a real Redis.

With DATABASE_URL / REDIS_URL unset, an embedded PostgreSQL and Redis start in a temporary folder;
with them set, a fresh database is created on that server for the run and dropped afterwards.
Each test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

os.environ["CRIER_ENV"] = "test"
os.environ.setdefault("CRIER_ADMIN_TOKEN", "test-admin-token")
os.environ.setdefault("CRIER_LOG_LEVEL", "WARNING")

from tests.support.servers import start_test_servers


@pytest.fixture(scope="session")
def servers() -> AsyncIterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="crier-test-") as folder:
        with start_test_servers(Path(folder)) as urls:
            yield urls


@pytest.fixture(scope="session")
async def database_url(servers: dict[str, str]) -> str:
    return servers["database_url"]


@pytest.fixture(scope="session")
async def redis_url(servers: dict[str, str]) -> str:
    return servers["redis_url"]


@pytest.fixture(scope="session")
async def app(servers: dict[str, str]):
    from crier.app import create_app

    return create_app()


@pytest.fixture
async def client(app) -> AsyncIterator:
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://crier.test") as http:
        yield http


@pytest.fixture(autouse=True)
async def clean_tables(servers: dict[str, str]) -> AsyncIterator[None]:
    yield
    from tests.support.servers import truncate_all

    await truncate_all()


@pytest.fixture
async def session(servers: dict[str, str]) -> AsyncIterator:
    from crier.core.db import get_sessionmaker

    async with get_sessionmaker()() as db:
        yield db


@pytest.fixture
def admin(client):
    from tests.support.factories import Admin

    return Admin(client)


@pytest.fixture
async def tenant(admin):
    """An organization with a project, a full-scope key, and connected TikTok and Instagram accounts."""
    return await admin.tenant()


@pytest.fixture
def encryption_keys(monkeypatch):
    """Set CRIER_ENCRYPTION_KEYS for the test; the cached settings and Fernet follow, and are restored."""
    from crier.core import crypto
    from crier.core.settings import get_settings

    def use(*keys: str) -> None:
        monkeypatch.setenv("CRIER_ENCRYPTION_KEYS", ",".join(keys))
        get_settings.cache_clear()
        crypto.reset_keys()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()
    crypto.reset_keys()
