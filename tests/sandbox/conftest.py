"""Sandbox tests talk to the in-process fakes only: no database, no Redis."""

import httpx
import pytest

from crier.platforms.http import create_http_client
from crier.sandbox.app import create_app
from tests.platforms.support import settings

BASE = "http://sandbox.test"


@pytest.fixture(autouse=True)
def clean_tables():
    """Overrides the suite-wide table truncation: these tests never touch PostgreSQL."""
    yield


@pytest.fixture
def app():
    return create_app(processing_seconds=0.05)


@pytest.fixture
async def sandbox(app):
    """A client for the fakes and their /_sandbox control endpoints."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


@pytest.fixture
def sandbox_settings():
    return settings(
        tiktok_api_base=f"{BASE}/tiktok",
        instagram_api_base=f"{BASE}/instagram/v25.0",
        instagram_refresh_base=f"{BASE}/instagram-refresh",
        twilio_api_base=f"{BASE}/twilio",
        url_allowlist=["sandbox.test"],
    )


@pytest.fixture
async def http(app, sandbox_settings):
    """The adapters' shared client, its transport wired to the in-process sandbox."""
    async with create_http_client(sandbox_settings, transport=httpx.ASGITransport(app=app)) as client:
        yield client
