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
from crier.core.redis import OutageLog, get_script
from crier.core.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
outage = OutageLog(log, "rate limiting; requests are allowed until it answers")
# One command, one round trip: count the request, and give a new window its expiry (atomically, so a
# window's key can never be left without one).
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


async def enforce_rate_limit(key_id: str) -> None:
    """Count this request against the key's window; 429 RATE_LIMITED with Retry-After past the limit."""
    limit = get_settings().rate_limit_per_minute
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    counter = f"crier:rate:{key_id}:{window}"
    try:
        count = await asyncio.wait_for(get_script(_COUNT)(keys=[counter], args=[WINDOW_SECONDS + 5]), timeout=0.5)
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
