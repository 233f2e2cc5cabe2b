"""The sender's HTTP client: httpcore's connection pool over plain asyncio, each connection opened to a
checked address.

Why not httpx: the sender needs none of what httpx adds over httpcore (redirects are never followed,
no cookies, no auth), and httpx's request models plus anyio's stream wrappers cost as much CPU as
the POST itself (the webhooks benchmark: ~0.7 ms per POST through httpx, ~0.4 ms through this).

The SSRF re-check happens where the address is chosen: `connect_tcp` checks the URL's host again
(resolving it, refusing any private answer) and connects to the very address it checked, while TLS
still verifies the real host name (httpcore passes it as `server_hostname`). A kept-alive connection
stays pinned to the address checked when it opened, and is dropped after `KEEPALIVE_SECONDS` idle, so
the check runs again for the next connection.
"""

# ruff: noqa: ASYNC109  (the `timeout` parameters are httpcore's network-backend interface)
from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpcore

from crier.core.urls import resolve_checked

KEEPALIVE_SECONDS = 5.0


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection as httpcore's stream: bytes in a buffer, a waiter for more."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self.connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self.connection
        while not connection.buffer and not connection.closed:
            connection.waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await connection.waiter
            except TimeoutError:
                raise httpcore.ReadTimeout() from None
            finally:
                connection.waiter = None
        data = bytes(connection.buffer[:max_bytes])
        del connection.buffer[:max_bytes]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # Webhook bodies are small: the transport buffers them, no flow control to wait for.
        if self.connection.closed or self.connection.transport is None:
            raise httpcore.WriteError("connection closed")
        self.connection.transport.write(buffer)

    async def aclose(self) -> None:
        if self.connection.transport is not None:
            self.connection.transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        connection = self.connection
        assert connection.transport is not None
        try:
            async with asyncio.timeout(timeout):
                transport = await asyncio.get_running_loop().start_tls(
                    connection.transport, connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            connection.transport.close()
            raise httpcore.ConnectTimeout() from None
        except OSError as exc:  # ssl.SSLError included: a certificate that does not match, say
            connection.transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(transport, asyncio.Transport)
        connection.transport = transport
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection with bytes or EOF waiting: the server dropped it
            return bool(self.connection.buffer) or self.connection.closed
        transport = self.connection.transport
        return None if transport is None else transport.get_extra_info(info)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connections only to addresses that pass the SSRF rules (`CRIER_URL_ALLOWLIST` hosts by name)."""

    def __init__(self, allowlist: list[str] | tuple[str, ...]) -> None:
        self.allowlist = tuple(allowlist)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = f"[{host}]" if ":" in host else host
        # UrlRefused propagates through httpcore untouched: the caller records why.
        checked = await resolve_checked(f"https://{literal}:{port}/", allowlist=self.allowlist)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(_Connection, checked.address or host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout() from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _Stream(connection)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def create_pool(
    *,
    max_connections: int,
    allowlist: list[str] | tuple[str, ...],
    ssl_context: ssl.SSLContext | None = None,
) -> httpcore.AsyncConnectionPool:
    """HTTP/1.1 keep-alive connections, each opened to a checked address; TLS verified against certifi
    unless `ssl_context` says otherwise (tests)."""
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
        network_backend=PinnedBackend(allowlist),
    )
