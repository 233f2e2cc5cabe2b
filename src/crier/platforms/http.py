"""The one httpx.AsyncClient the adapters share, and small helpers for reading its answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.observability import metrics

USER_AGENT = "crier/0.1"


def create_http_client(settings: Settings, **options: Any) -> httpx.AsyncClient:
    """Build the shared client: every platform call is bounded by `platform_timeout_seconds`."""
    total = settings.platform_timeout_seconds
    # A slow connect is a dead host: fail it fast so the runner's backoff takes over.
    timeout = httpx.Timeout(total, connect=min(5.0, total))
    options.setdefault("event_hooks", metrics.platform_call_hooks(settings))  # crier_platform_calls_total
    return httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        # Platform APIs do not redirect; following one could carry a bearer token elsewhere.
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        **options,
    )


def json_object(response: httpx.Response, *, big_ints_as_str: bool = False) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        # parse_int=str keeps int64 ids above 2^53 exact (a float would round them).
        body = json.loads(response.text, parse_int=str) if big_ints_as_str else json.loads(response.text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def expiry_from_lifetime(seconds: Any) -> datetime | None:
    """`expires_in`-style seconds from now as a time; None when absent or unreadable (never raises:
    a token answer with an odd lifetime must still be stored, see the refresh code)."""
    try:
        return datetime.now(UTC) + timedelta(seconds=int(seconds)) if seconds else None
    except (TypeError, ValueError, OverflowError):
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
