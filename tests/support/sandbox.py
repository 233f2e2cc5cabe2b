"""The platform sandbox for tests: served on a free loopback port inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from crier.core.settings import Settings, get_settings
from crier.sandbox.app import create_app as create_sandbox_app
from crier.sandbox.wiring import platform_settings


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """An ASGI app on a free loopback port, in the test's event loop; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving_task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving_task
        listener.close()


@asynccontextmanager
async def running_sandbox(**config: Any) -> AsyncIterator[str]:
    """The sandbox (SandboxConfig fields as keywords) on a free loopback port; yields its base URL."""
    async with serving(create_sandbox_app(**{"processing_seconds": 0.05, **config})) as url:
        yield url


async def sandbox_records(sandbox: str) -> dict[str, Any]:
    """Everything the sandbox's fakes received since it started."""
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{sandbox}/_sandbox/records")).json()


def sandbox_settings(sandbox: str, **changes: Any) -> Settings:
    """The test settings with every platform pointed at the sandbox (get_settings() stays untouched)."""
    return get_settings().model_copy(
        update={
            **platform_settings(sandbox),
            "platform_timeout_seconds": 5,
            "worker_sweep_interval_seconds": 0.1,
            **changes,
        }
    )
