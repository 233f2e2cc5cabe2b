"""The platform sandbox and a real delivery loop, in the test's event loop, for end-to-end security tests."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from crier.core.settings import Settings, get_settings
from crier.delivery.loop import DeliveryLoop
from crier.platforms.http import create_http_client
from crier.sandbox.app import create_app as create_sandbox_app

FINAL = ("published", "draft", "failed", "canceled")


@asynccontextmanager
async def running_sandbox(**config: Any) -> AsyncIterator[str]:
    """The sandbox (SandboxConfig fields as keywords) on a free loopback port; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    app = create_sandbox_app(**{"processing_seconds": 0.05, **config})
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


async def sandbox_records(sandbox: str) -> dict[str, Any]:
    """Everything the sandbox's fakes received since it started."""
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{sandbox}/_sandbox/records")).json()


def sandbox_settings(sandbox: str, **changes: Any) -> Settings:
    """The test settings with every platform pointed at the sandbox (get_settings() stays untouched)."""
    return get_settings().model_copy(update={
        "tiktok_api_base": f"{sandbox}/tiktok", "instagram_api_base": f"{sandbox}/instagram/v25.0",
        "instagram_refresh_base": f"{sandbox}/instagram-refresh", "twilio_api_base": f"{sandbox}/twilio",
        "twilio_account_sid": "ACsandbox", "twilio_from_number": "+15555550199",
        "tiktok_client_key": "sandbox-client-key", "url_allowlist": ["127.0.0.1"],
        "platform_timeout_seconds": 5, "worker_sweep_interval_seconds": 0.1, **changes,
    })


@asynccontextmanager
async def delivering(settings: Settings) -> AsyncIterator[None]:
    """A worker's delivery loop with the real adapters (sweeps only: no Redis wake-ups)."""
    http = create_http_client(settings)
    loop = DeliveryLoop(settings=settings, http=http, redis_url="")
    await loop.start()
    try:
        yield
    finally:
        await loop.stop(grace_seconds=5)
        await http.aclose()


async def settled(post_ids: list[str], *, within: float = 20) -> dict[str, Any]:
    """The posts once each reached a final state, by id (fails after `within` seconds)."""
    from crier.core.db import get_sessionmaker
    from crier.models import ScheduledPost

    deadline = time.monotonic() + within
    while True:
        async with get_sessionmaker()() as session:
            posts = {post_id: await session.get(ScheduledPost, post_id) for post_id in post_ids}
        if all(post.status in FINAL for post in posts.values()):
            return posts
        if time.monotonic() > deadline:
            raise AssertionError({post_id: post.status for post_id, post in posts.items()})
        await asyncio.sleep(0.05)
