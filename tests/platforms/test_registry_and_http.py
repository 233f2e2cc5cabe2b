"""Adapter choice by platform and mode, and the shared HTTP plumbing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from crier.platforms.http import create_http_client, json_object, retry_after_seconds
from crier.platforms.instagram import InstagramAdapter
from crier.platforms.managed import ManagedAdapter
from crier.platforms.registry import adapter_for
from crier.platforms.sms import SmsDraftAdapter
from crier.platforms.tiktok import TikTokAdapter
from tests.platforms.support import job, settings


@pytest.mark.parametrize(
    ("platform", "mode", "adapter"),
    [
        ("tiktok", "publish", TikTokAdapter),
        ("tiktok", "draft", TikTokAdapter),
        ("instagram", "publish", InstagramAdapter),
        ("instagram", "draft", SmsDraftAdapter),
        ("tiktok", "managed", ManagedAdapter),
        ("instagram", "managed", ManagedAdapter),
    ],
)
@pytest.mark.asyncio
async def test_adapter_is_chosen_by_platform_and_mode(platform, mode, adapter):
    async with httpx.AsyncClient() as http:
        assert isinstance(adapter_for(job(platform, mode), http=http, settings=settings()), adapter)


@pytest.mark.asyncio
async def test_unknown_mode_is_refused():
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="no adapter"):
            adapter_for(job(mode="carrier-pigeon"), http=http, settings=settings())


def test_loading_the_protocol_loads_no_adapter():
    # Delivery imports the registry late; the package itself must not pull every adapter in.
    code = (
        "import sys, crier.platforms.base, crier.platforms.limits, crier.platforms.progress; "
        "print(sorted(m for m in sys.modules if m.startswith('crier.platforms.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for adapter in ("tiktok", "instagram", "sms", "managed", "registry"):
        assert f"'crier.platforms.{adapter}'" not in loaded


@pytest.mark.asyncio
async def test_shared_client_is_bounded_by_the_platform_timeout_and_never_follows_redirects():
    async with create_http_client(settings(platform_timeout_seconds=12.0)) as http:
        assert http.timeout.read == 12.0 and http.timeout.connect == 5.0
        assert http.follow_redirects is False


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "30"})) == 30.0
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after_seconds(httpx.Response(429, headers={"Retry-After": when})) <= 60
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Response(429)) is None


def test_json_object_keeps_int64_exact_as_strings():
    response = httpx.Response(200, text='{"ids": [7291234567890123456]}')
    assert json_object(response, big_ints_as_str=True) == {"ids": ["7291234567890123456"]}
    assert json_object(httpx.Response(200, text="[1]")) is None
    assert json_object(httpx.Response(502, text="<html>")) is None


async def _serve(handle) -> tuple[object, str]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _read_request(reader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return await reader.readexactly(length)


@pytest.mark.asyncio
async def test_a_kept_alive_connection_the_platform_dropped_is_not_reused():
    connections = 0

    async def answer_once_then_close(reader, writer):
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")  # keep-alive, then gone
        await writer.drain()
        writer.close()

    server, base = await _serve(answer_once_then_close)
    async with server, create_http_client(settings()) as http:
        for _ in range(3):
            response = await http.post(f"{base}/v2/post/publish/status/fetch/", json={})
            assert response.status_code == 200
            await asyncio.sleep(0.05)  # the server's close reaches the pooled connection
    assert connections == 3


@pytest.mark.asyncio
async def test_a_body_larger_than_the_socket_buffers_goes_whole_through_flow_control():
    received = asyncio.get_running_loop().create_future()

    async def read_slowly(reader, writer):
        await asyncio.sleep(0.3)  # the client's writes fill the kernel buffers meanwhile
        received.set_result(len(await _read_request(reader)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server, base = await _serve(read_slowly)
    body = b"x" * (16 * 1024 * 1024)
    async with server, create_http_client(settings()) as http:
        response = await http.post(f"{base}/upload", content=body)
    assert response.status_code == 200 and received.result() == len(body)
