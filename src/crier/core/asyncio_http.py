"""httpcore's network backend on plain asyncio: the HTTP clients' connections, without anyio.

httpcore's default backend wraps every read and write in anyio's streams and cancel scopes, and its
idle-connection check (`is_readable`) polls each pooled socket with a system call on every request
and release: a tenth of a delivering worker's CPU with twenty connections to one platform host. Here
a connection is an asyncio Protocol: bytes land in a buffer, a read waits on a future only when the
buffer is empty, writes respect the transport's flow control, and an idle connection is known dropped
when bytes or EOF are waiting in that buffer.
"""

# ruff: noqa: ASYNC109  (the `timeout` parameters are httpcore's network-backend interface)
from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpcore


class Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: bytes in a buffer, a waiter for more, one for the writer's turn."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None  # set while the transport's buffer is full

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
        self.resume_writing()

    def pause_writing(self) -> None:
        if self.drained is None:
            self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None:
            if not self.drained.done():
                self.drained.set_result(None)
            self.drained = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Stream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: Connection) -> None:
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
        connection = self.connection
        if connection.closed or connection.transport is None:
            raise httpcore.WriteError("connection closed")
        connection.transport.write(buffer)
        if connection.drained is not None:  # the peer reads slower than we write: wait for room
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(connection.drained)
            except TimeoutError:
                raise httpcore.WriteTimeout() from None
            if connection.closed:
                raise httpcore.WriteError("connection closed")

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


async def open_stream(address: str, port: int, timeout: float | None) -> Stream:
    """A TCP connection to `address` as httpcore's stream (connect errors as httpcore's)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, connection = await loop.create_connection(Connection, address, port)
    except TimeoutError:
        raise httpcore.ConnectTimeout() from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    return Stream(connection)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections to whatever the URL names (the platforms' configured hosts)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return await open_stream(host, port, timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
