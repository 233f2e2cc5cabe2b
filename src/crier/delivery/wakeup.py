"""Wake a worker right after posts are committed. Best effort: the periodic sweep is the guarantee."""

from __future__ import annotations

import asyncio
import logging

from crier.core.redis import OutageLog, get_script

log = logging.getLogger(__name__)

# Workers BLPOP this list; any number of pushes collapse into "look for due posts now".
WAKE_KEY = "crier:wake"
outage = OutageLog(log, "waking workers after a publish; the sweep delivers meanwhile")


class _Coalescer:
    """At most one push on its way per process: publishes that commit meanwhile ask for one more after it.

    A push that was already sent may have reached Redis before their commit, so they cannot simply
    ride on it; one push after it covers all of them (workers read any number of pushes as one).
    """

    pushing = False
    again = False


async def wake_worker() -> None:
    """Tell workers that due posts are waiting. Never raises: PostgreSQL already holds the posts."""
    if _Coalescer.pushing:
        _Coalescer.again = True
        return
    _Coalescer.pushing = True
    try:
        while True:
            _Coalescer.again = False
            try:
                await asyncio.wait_for(_push(), timeout=1.0)
            except Exception as exc:  # Redis down: the sweep picks the posts up when it is back
                outage.failed(exc)
                return
            outage.answered()
            if not _Coalescer.again:
                return
    finally:
        _Coalescer.pushing = False


# Push, and keep the list tiny however many publishes arrive: one command (EVALSHA), one round trip.
_PUSH = """
redis.call('RPUSH', KEYS[1], 1)
redis.call('LTRIM', KEYS[1], -10, -1)
"""


async def _push() -> None:
    await get_script(_PUSH)(keys=[WAKE_KEY])
