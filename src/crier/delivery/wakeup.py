"""Wake a worker right after posts are committed. Best effort: the periodic sweep is the guarantee."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis

from crier.core.redis import get_redis

log = logging.getLogger(__name__)

# Workers BLPOP this list; any number of pushes collapse into "look for due posts now".
WAKE_KEY = "crier:wake"


async def wake_worker() -> None:
    """Tell workers that due posts are waiting. Never raises: PostgreSQL already holds the posts."""
    try:
        await asyncio.wait_for(_push(get_redis()), timeout=1.0)
    except Exception as exc:  # Redis down: the sweep picks the posts up when it is back
        log.warning("could not wake the worker; the sweep will deliver", extra={"error": type(exc).__name__})


async def _push(client: Redis) -> None:
    async with client.pipeline(transaction=True) as pipe:
        pipe.rpush(WAKE_KEY, 1)
        pipe.ltrim(WAKE_KEY, -10, -1)  # keep the list tiny however many publishes arrive
        await pipe.execute()
