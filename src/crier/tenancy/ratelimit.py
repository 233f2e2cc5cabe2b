"""Per-API-key rate limiting: a fixed one-minute window counted in Redis.

Fails open: a Redis outage must never stop partners from publishing (CONTRACT: PostgreSQL is the
source of truth; Redis only carries work). Callers hold no PostgreSQL connection while this waits
for Redis (tenancy.auth looks the key up on a connection of its own and gives it back first).
"""

from __future__ import annotations

import asyncio
import logging
import time

from crier.core.errors import RateLimited
from crier.core.redis import OutageLog, get_redis
from crier.core.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
outage = OutageLog(log, "rate limiting; requests are allowed until it answers")


async def enforce_rate_limit(key_id: str) -> None:
    """Count this request against the key's window; 429 RATE_LIMITED with Retry-After past the limit."""
    limit = get_settings().rate_limit_per_minute
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    counter = f"crier:rate:{key_id}:{window}"
    try:
        # Pipelined, not MULTI/EXEC: INCR is atomic on its own, and the EXPIRE rides in the same round trip.
        async with get_redis().pipeline(transaction=False) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, WINDOW_SECONDS + 5)
            count, _ = await asyncio.wait_for(pipe.execute(), timeout=0.5)
    except Exception as exc:  # Redis down or slow: let the request through
        outage.failed(exc)
        return
    outage.answered()
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(
            f"Rate limit of {limit} requests per minute exceeded for this API key.",
            details={"limit": limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
