"""One lazily created Redis client per process, with short timeouts.

Redis only carries wake-ups and rate-limit counters, so every caller treats it as optional: when it
is down, publishing goes on (PostgreSQL holds the posts) and rate limiting fails open.
"""

from __future__ import annotations

from redis.asyncio import Redis

from crier.core.settings import get_settings

_client: Redis | None = None


def get_redis() -> Redis:
    global _client
    if _client is None:
        url = get_settings().required_redis_url()
        _client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
