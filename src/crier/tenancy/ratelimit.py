"""Per-API-key rate limiting: a fixed one-minute window counted in Redis.

Fails open: a Redis outage must never stop partners from publishing (CONTRACT: PostgreSQL is the
source of truth; Redis only carries work). Callers hold no PostgreSQL connection while this waits
for Redis (tenancy.auth looks the key up on a connection of its own and gives it back first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from crier.core.errors import RateLimited
from crier.core.redis import OutageLog, get_script
from crier.core.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
outage = OutageLog(log, "rate limiting; requests are allowed until it answers")
# One command, one round trip: add to the window's count, and give a new window its expiry (atomically,
# so a window's key can never be left without one).
_COUNT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Far below the limit, a process counts up to this many requests locally and adds them in one call.
BATCH = 16


@dataclass
class _Window:
    """What this process knows of one key's current window."""

    number: int
    known: int = 0  # the window's count as Redis last answered it
    pending: int = 0  # requests let through here and not yet added in Redis
    first: asyncio.Future[int | None] | None = None  # the call that will tell `known`, while it runs
    adding: asyncio.Task[None] | None = None  # a batch being added in the background


_windows: dict[str, _Window] = {}


async def enforce_rate_limit(key_id: str) -> None:
    """Count this request against the key's window; 429 RATE_LIMITED with Retry-After past the limit.

    While the window's count is under half the limit, requests are added in Redis a batch at a time,
    in the background: no request waits for Redis, and concurrent requests never pile up calls of
    their own (one did per request while a batch's answer was awaited: under 50 clients the
    limiter was most of the publish p99). Past half the limit every request is counted before it
    is answered, so the limit itself stays exact (other processes' unsent batches are at most
    BATCH requests each, far from it). A window's first request waits for its count, and requests
    arriving meanwhile wait for that same answer.
    """
    limit = get_settings().rate_limit_per_minute
    if limit <= 0:
        return
    now = time.time()
    number = int(now // WINDOW_SECONDS)
    window = _windows.get(key_id)
    if window is None or window.number != number:
        window = _windows[key_id] = _Window(number)  # the old window's unsent requests no longer count
    counter = f"crier:rate:{key_id}:{number}"
    if not window.known and window.first is not None:
        await asyncio.shield(window.first)  # the window's count is on its way: no call of our own
    if window.known and window.known + window.pending + 1 <= limit // 2:
        window.pending += 1
        if window.pending >= BATCH and window.adding is None:
            window.adding = asyncio.create_task(_add_batch(window, counter))
        return
    adding, window.pending = window.pending + 1, 0
    call = asyncio.ensure_future(_add(window, counter, adding))
    if not window.known:
        window.first = call
    count = await call
    if count is not None and count > limit:
        retry_after = max(1, int((number + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(
            f"Rate limit of {limit} requests per minute exceeded for this API key.",
            details={"limit": limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


async def _add(window: _Window, counter: str, adding: int) -> int | None:
    """Add `adding` requests to the window's count in Redis: the new count, or None if Redis failed."""
    try:
        count = int(
            await asyncio.wait_for(
                get_script(_COUNT)(keys=[counter], args=[WINDOW_SECONDS + 5, adding]), timeout=0.5
            )
        )
    except Exception as exc:  # Redis down or slow: let the request through
        outage.failed(exc)
        return None
    outage.answered()
    window.known = max(window.known, count)  # answers to concurrent calls may arrive out of order
    return count


async def _add_batch(window: _Window, counter: str) -> None:
    """Add the requests let through so far, while later ones keep counting locally."""
    adding, window.pending = window.pending, 0
    try:
        if await _add(window, counter, adding) is None:
            window.pending += adding  # counted with the next call, once Redis answers again
    finally:
        window.adding = None
