"""The sender's connections (WEBHOOKS.md §1): checked when opened, to the address checked, then reused."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpcore
import pytest

from crier.core.urls import UrlRefused
from crier.webhooks.connections import create_pool

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Server:
    """A loopback HTTP/1.1 server that answers every request `ANSWER` and counts connections."""

    def __init__(self, *, close_after_answer: bool) -> None:
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(ANSWER)
                await writer.drain()
                if self.close_after_answer:  # keep-alive announced, then dropped while idle
                    await asyncio.sleep(0.05)
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def server(request) -> AsyncIterator[Server]:
    state = Server(close_after_answer=getattr(request, "param", False))
    listening = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listening.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        listening.close()


async def post(pool: httpcore.AsyncConnectionPool, url: str) -> int:
    return (await pool.request("POST", url, content=b"{}")).status


async def test_one_connection_serves_many_posts(server):
    async with create_pool(max_connections=4, allowlist=["127.0.0.1"]) as pool:
        for _ in range(5):
            assert await post(pool, f"http://127.0.0.1:{server.port}/hook") == 200
    assert server.connections == 1


@pytest.mark.parametrize("server", [True], indirect=True)
async def test_a_connection_the_receiver_dropped_is_replaced_not_failed(server):
    async with create_pool(max_connections=4, allowlist=["127.0.0.1"]) as pool:
        assert await post(pool, f"http://127.0.0.1:{server.port}/hook") == 200
        await asyncio.sleep(0.2)  # the receiver closes the idle connection
        assert await post(pool, f"http://127.0.0.1:{server.port}/hook") == 200
    assert server.connections == 2


async def test_a_host_not_allow_listed_is_refused_before_connecting(server):
    async with create_pool(max_connections=4, allowlist=[]) as pool:
        with pytest.raises(UrlRefused) as refused:
            await post(pool, f"http://127.0.0.1:{server.port}/hook")
    assert "private" in refused.value.problem and server.connections == 0


async def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    loop = asyncio.get_running_loop()
    answers = iter(["93.184.215.14", "10.0.0.7"])  # a rebinding resolver: public first, private next
    dialed: list[str] = []

    async def getaddrinfo(host, port, **_):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]

    async def create_connection(factory, host, port, **_):
        dialed.append(host)
        raise ConnectionRefusedError("not really dialing out")

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(loop, "create_connection", create_connection)
    async with create_pool(max_connections=4, allowlist=[]) as pool:
        with pytest.raises(httpcore.ConnectError):
            await post(pool, "https://hooks.example.com/crier")
        with pytest.raises(UrlRefused):  # every new connection is checked again
            await post(pool, "https://hooks.example.com/crier")
    assert dialed == ["93.184.215.14"]
