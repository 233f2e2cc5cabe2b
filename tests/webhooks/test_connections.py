"""The sender's connections (WEBHOOKS.md §1): checked when opened, to the address checked, then reused."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def self_signed(tmp_path, host: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `host`, and a client context trusting only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


@pytest.mark.parametrize(("certified", "works"), [("hooks.test", True), ("elsewhere.test", False)])
async def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(
    tmp_path, monkeypatch, certified, works
):
    server_context, client_context = self_signed(tmp_path, certified)
    state = Server(close_after_answer=False)
    listening = await asyncio.start_server(state.handle, "127.0.0.1", 0, ssl=server_context)
    port = listening.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    create_connection = loop.create_connection
    dialed: list[str] = []

    async def pinned(factory, host, port, **options):
        dialed.append(host)
        return await create_connection(factory, "127.0.0.1", port, **options)

    monkeypatch.setattr(loop, "create_connection", pinned)
    try:
        async with create_pool(
            max_connections=2, allowlist=["hooks.test"], ssl_context=client_context
        ) as pool:
            if works:
                assert await post(pool, f"https://hooks.test:{port}/hook") == 200
            else:
                with pytest.raises(httpcore.ConnectError):
                    await post(pool, f"https://hooks.test:{port}/hook")
    finally:
        listening.close()
    assert dialed == ["hooks.test"]  # allow-listed: connected by name (a checked host would be its address)
