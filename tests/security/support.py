"""The platform sandbox and a real delivery loop, in the test's event loop, for end-to-end security tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from crier.core.settings import Settings
from crier.delivery.loop import DeliveryLoop
from crier.platforms.http import create_http_client
from tests.support.sandbox import running_sandbox, sandbox_records, sandbox_settings  # noqa: F401

FINAL = ("published", "draft", "failed", "canceled")


@asynccontextmanager
async def delivering(settings: Settings) -> AsyncIterator[None]:
    """A worker's delivery loop with the real adapters (sweeps only: no arq wake-up jobs)."""
    http = create_http_client(settings)
    loop = DeliveryLoop(settings=settings, http=http)
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
