"""The SDK's unit tests run each case through the sync and the async client."""

from __future__ import annotations

import pytest

from crier_sdk import AsyncCrier, Crier
from tests.sdk.support import BASE


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
    import asyncio
    import socket

    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        listener.close()
