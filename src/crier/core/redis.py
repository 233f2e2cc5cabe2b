"""One lazily created Redis client per process, with short timeouts.

Redis only carries wake-ups (arq jobs) and rate-limit counters, so every caller treats it as optional:
when it is down, publishing goes on (PostgreSQL holds the posts) and rate limiting fails open.
"""

from __future__ import annotations

import logging

from arq.connections import ArqRedis
from redis.commands.core import AsyncScript

from crier.core.settings import get_settings

_client: ArqRedis | None = None


def get_redis() -> ArqRedis:
    """The process's client: redis-py's, plus arq's `enqueue_job` for the wake-up job."""
    global _client
    if _client is None:
        url = get_settings().required_redis_url()
        _client = ArqRedis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _client


def get_script(source: str) -> AsyncScript:
    """A Lua script on the current client: one EVALSHA per call (redis-py loads it again on NOSCRIPT)."""
    client = get_redis()
    script = _scripts.get(source)
    if script is None or script.registered_client is not client:
        script = _scripts[source] = client.register_script(source)
    return script


_scripts: dict[str, AsyncScript] = {}


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


class OutageLog:
    """One warning when Redis stops answering a caller, one line when it answers again: not one per request.

    An API under load calls Redis hundreds of times a second; during an outage a line per call would
    bury every other log line (the worker logs its own outage the same way).
    """

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            self.logger.warning(f"redis unavailable: {self.what}", extra={"error": type(exc).__name__})

    def answered(self) -> None:
        if self.down:
            self.down = False
            self.logger.warning(f"redis available again: {self.what.split(';')[0]} resumed")
