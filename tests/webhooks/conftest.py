"""Webhook fixtures: endpoints registered through the public API, and rows read back from PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

RECEIVER_URL = "https://hooks.example.com/crier"
ALL_POST_EVENTS = ["post.scheduled", "post.published", "post.draft", "post.failed", "post.canceled"]


def endpoint_body(**fields: Any) -> dict[str, Any]:
    return {"url": RECEIVER_URL, "events": ALL_POST_EVENTS, **fields}


@pytest.fixture
def create_endpoint(client, tenant):
    """POST /v1/webhook-endpoints for the tenant (or `headers`); returns the 201 answer."""

    async def create(headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        response = await client.post(
            "/v1/webhook-endpoints", json=endpoint_body(**fields), headers=headers or tenant.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def other_tenant(admin):
    """A second organization, to check that ids never cross organizations."""

    async def make():
        return await admin.tenant()

    return make


import asyncio  # noqa: E402
import socket  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from tests.delivery.conftest import make_post  # noqa: E402,F401  (due posts written straight to PostgreSQL)


class Receiver:
    """The sandbox's webhook receiver on a loopback port, and its control routes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, name: str = "main") -> str:
        return f"{self.base_url}/webhooks/{name}"

    async def configure(self, name: str = "main", **script) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.base_url}/_sandbox/webhooks/{name}", json=script)
            response.raise_for_status()

    async def received(self, name: str | None = None) -> list[dict]:
        async with httpx.AsyncClient() as http:
            params = {"name": name} if name else {}
            return (await http.get(f"{self.base_url}/_sandbox/webhooks", params=params)).json()["items"]

    async def reset(self) -> None:
        async with httpx.AsyncClient() as http:
            await http.post(f"{self.base_url}/_sandbox/reset")


@pytest.fixture(scope="package")
async def receiver_server() -> AsyncIterator[Receiver]:
    from crier.sandbox.app import create_app as create_sandbox_app

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_sandbox_app(), log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Receiver(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        server.should_exit = True
        await serving
        listener.close()


@pytest.fixture
async def receiver(receiver_server: Receiver, monkeypatch) -> Receiver:
    """A fresh receiver; loopback allow-listed (as `make dev` and tests do) for this test."""
    from crier.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])
    await receiver_server.reset()
    return receiver_server
