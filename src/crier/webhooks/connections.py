"""The sender's HTTP client: httpcore's connection pool over plain asyncio (core.asyncio_http), each
connection opened to a checked address.

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

import ssl
from typing import Any

import httpcore

from crier.core.asyncio_http import AsyncioBackend, open_stream
from crier.core.urls import resolve_checked

KEEPALIVE_SECONDS = 5.0


class PinnedBackend(AsyncioBackend):
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
        return await open_stream(checked.address or host, port, timeout)


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
