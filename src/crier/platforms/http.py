"""The one httpx.AsyncClient the adapters share, and small helpers for reading its answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

from crier.core.asyncio_http import AsyncioBackend
from crier.core.settings import Settings
from crier.observability import metrics

USER_AGENT = "crier/0.1"
# Requests in flight to one platform host, each on a kept-alive connection. A worker has hundreds of
# posts in flight: the rest wait their turn in PerHostLimit's FIFO, which costs nothing per waiter,
# instead of in httpx's pool, whose bookkeeping grows with its queue.
CONNECTIONS_PER_HOST = 20
MAX_CONNECTIONS = 100


class PerHostLimit(httpx.AsyncBaseTransport):
    """At most `per_host` requests in flight to each host (a slot is held until the body is closed)."""

    def __init__(self, transport: httpx.AsyncBaseTransport, *, per_host: int) -> None:
        self.transport, self.per_host = transport, per_host
        self._slots: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = asyncio.Semaphore(self.per_host)
        await slot.acquire()
        try:
            response = await self.transport.handle_async_request(request)
        except BaseException:
            slot.release()
            raise
        response.stream = _ReleaseOnClose(response.stream, slot)
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


class _ReleaseOnClose(httpx.AsyncByteStream):
    def __init__(self, stream: Any, slot: asyncio.Semaphore) -> None:
        self.stream, self.slot, self.released = stream, slot, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            if not self.released:
                self.released = True
                self.slot.release()


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its httpcore pool on plain asyncio connections (core.asyncio_http).

    httpx offers no parameter for the pool's network backend, so the pool it built is replaced by
    the same one (same limits, httpx's default TLS context) on ours: anyio's stream wrappers and a
    readability poll of every idle connection on each request and release were a tenth of a
    delivering worker's CPU.
    """

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )


def create_http_client(settings: Settings, **options: Any) -> httpx.AsyncClient:
    """Build the shared client: every platform call is bounded by `platform_timeout_seconds`."""
    total = settings.platform_timeout_seconds
    # A slow connect is a dead host: fail it fast so the runner's backoff takes over.
    timeout = httpx.Timeout(total, connect=min(5.0, total))
    options.setdefault("event_hooks", metrics.platform_call_hooks(settings))  # crier_platform_calls_total
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    inner = options.pop("transport", None) or AsyncioTransport(limits=limits)
    return httpx.AsyncClient(
        timeout=timeout,
        transport=PerHostLimit(inner, per_host=CONNECTIONS_PER_HOST),
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


def object_member(body: dict[str, Any], key: str) -> dict[str, Any]:
    """`body[key]` when it is a JSON object, else an empty one: platforms omit and null members freely."""
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def array_member(body: dict[str, Any], key: str) -> list[Any]:
    """`body[key]` when it is a JSON array, else an empty one."""
    value = body.get(key)
    return value if isinstance(value, list) else []


def expiry_from_lifetime(seconds: Any) -> datetime | None:
    """`expires_in`-style seconds from now as a time; None when absent, not positive or unreadable
    (never raises: a token answer with an odd lifetime must still be stored, see BearerClient)."""
    try:
        lifetime = int(seconds)
        return datetime.now(UTC) + timedelta(seconds=lifetime) if lifetime > 0 else None
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
