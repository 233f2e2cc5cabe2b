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


_windows: dict[str, _Window] = {}


async def enforce_rate_limit(key_id: str) -> None:
    """Count this request against the key's window; 429 RATE_LIMITED with Retry-After past the limit.

    While the window's count is under half the limit, requests are added in Redis a batch at a time
    (every BATCH-th request, with the ones before it): a round trip saved on most requests, and past
    half the limit every request is counted at once, so the limit itself stays exact (other
    processes' unsent batches are at most BATCH requests each, far from it).
    """
    limit = get_settings().rate_limit_per_minute
    if limit <= 0:
        return
    now = time.time()
    number = int(now // WINDOW_SECONDS)
    window = _windows.get(key_id)
    if window is None or window.number != number:
        window = _windows[key_id] = _Window(number)  # the old window's unsent requests no longer count
    if window.known and window.pending + 1 < BATCH and window.known + window.pending + 1 <= limit // 2:
        window.pending += 1
        return
    counter = f"crier:rate:{key_id}:{number}"
    adding = window.pending + 1
    try:
        count = await asyncio.wait_for(
            get_script(_COUNT)(keys=[counter], args=[WINDOW_SECONDS + 5, adding]), timeout=0.5
        )
    except Exception as exc:  # Redis down or slow: let the request through
        outage.failed(exc)
        return
    outage.answered()
    window.known, window.pending = count, 0
    if count > limit:
        retry_after = max(1, int((number + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(
            f"Rate limit of {limit} requests per minute exceeded for this API key.",
            details={"limit": limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
