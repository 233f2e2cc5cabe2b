"""The SDK's unit tests run each case through the sync and the async client."""

from __future__ import annotations

import pytest

from crier_sdk import AsyncCrier, Crier
from tests.sdk.support import BASE, serve


@pytest.fixture(params=["sync", "async"])
async def sdk(request):
    if request.param == "sync":
        client = Crier("lp_live_test", base_url=BASE, max_retry_wait=1)
        yield client
        client.close()
    else:
        client = AsyncCrier("lp_live_test", base_url=BASE, max_retry_wait=1)
        yield client
        await client.aclose()


@pytest.fixture(scope="package")
async def crier_url(app):
    """The real Crier API served by uvicorn on a free loopback port (the suite's PostgreSQL and Redis)."""
    async with serve(app) as url:
        yield url
