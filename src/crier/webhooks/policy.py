"""What one send attempt's answer means: delivered, retried (when), or failed. Pure, tested without I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

# Delays before attempts 1..8 (WEBHOOKS.md §4): 0 s, 30 s, 1 min, 5 min, 15 min, 1 h, 6 h, 24 h.
LADDER_SECONDS = (0, 30, 60, 300, 900, 3600, 21_600, 86_400)
MAX_ATTEMPTS = len(LADDER_SECONDS)
JITTER = 0.1  # ±10 %: receivers that failed together do not get their retries at the same instant
RETRY_AFTER_CAP_SECONDS = 86_400
AUTO_PAUSE_AFTER_FAILURES = 20
ABANDON_AFTER_SECONDS = 72 * 3600


@dataclass(frozen=True)
class Verdict:
    """`delivered`, `retry` (in `delay` seconds) or `failed`."""

    status: str
    delay: float | None = None


def retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds the receiver asked us to wait (delta-seconds or an HTTP date), capped at 24 h; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), float(RETRY_AFTER_CAP_SECONDS))


def ladder_delay(attempts_made: int, *, rng: random.Random | None = None) -> float:
    """The ladder's delay before attempt `attempts_made + 1`, with jitter."""
    base = LADDER_SECONDS[attempts_made]
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


def judge(
    *,
    attempts_made: int,
    status: int | None,
    retry_after: str | None = None,
    now: datetime,
    rng: random.Random | None = None,
) -> Verdict:
    """The fate of a delivery after its `attempts_made`-th attempt answered `status` (None: no answer)."""
    if status is not None and 200 <= status < 300:
        return Verdict("delivered")
    if status is not None and not retryable_status(status):
        return Verdict("failed")  # other 4xx (and redirects, which are never followed): the receiver said no
    if attempts_made >= MAX_ATTEMPTS:
        return Verdict("failed")
    asked = parse_retry_after(retry_after, now=now) if status is not None else None
    return Verdict("retry", asked if asked is not None else ladder_delay(attempts_made, rng=rng))


def should_auto_pause(consecutive_failures: int) -> bool:
    return consecutive_failures >= AUTO_PAUSE_AFTER_FAILURES
