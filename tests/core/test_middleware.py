"""Request ids on every response, and the body size cap (413 PAYLOAD_TOO_LARGE) before any handler runs."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from crier.app import create_app
from crier.core.settings import get_settings
from tests.support.factories import content_body, error_of

LIMIT = 2048


async def test_every_response_carries_an_x_request_id(client, tenant):
    ok = await client.get("/v1/social-accounts", headers=tenant.headers)
    failed = await client.get("/v1/social-accounts")

    assert ok.headers["x-request-id"].startswith("req_")
    assert failed.headers["x-request-id"] == failed.json()["error"]["requestId"]
    assert ok.headers["x-request-id"] != failed.headers["x-request-id"]


async def test_a_sane_incoming_request_id_is_honoured(client):
    response = await client.get("/v1/social-accounts", headers={"X-Request-Id": "partner-trace:42.a_b"})

    assert response.headers["x-request-id"] == "partner-trace:42.a_b"
    assert error_of(response, 401, "UNAUTHORIZED")["requestId"] == "partner-trace:42.a_b"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "<script>", "a/b", "line\tbreak"])
async def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = await client.get("/v1/social-accounts", headers={"X-Request-Id": incoming})

    assert response.headers["x-request-id"].startswith("req_")
    assert error_of(response, 401, "UNAUTHORIZED")["requestId"] == response.headers["x-request-id"]


@pytest.fixture
async def small_limit_client(monkeypatch):
    """A fresh app built while the body limit is LIMIT bytes."""
    monkeypatch.setattr(get_settings(), "max_body_bytes", LIMIT)
    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://crier.test") as http:
        yield http


def _padded(body: dict, size: int) -> bytes:
    """`body` as JSON, padded with whitespace to exactly `size` bytes."""
    raw = json.dumps(body).encode()
    return raw + b" " * (size - len(raw))


async def _content_rows(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM content_containers"))


async def test_a_body_at_the_limit_reaches_the_handler(small_limit_client, tenant, session):
    body = _padded(content_body(tenant.project["id"]), LIMIT)

    response = await small_limit_client.post(
        "/v1/content", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text
    assert await _content_rows(session) == 1


async def test_a_declared_content_length_over_the_limit_is_413(small_limit_client, tenant, session):
    body = _padded(content_body(tenant.project["id"]), LIMIT + 1)

    response = await small_limit_client.post(
        "/v1/content", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert error_of(response, 413, "PAYLOAD_TOO_LARGE")["details"] == {"maxBytes": LIMIT}
    assert await _content_rows(session) == 0


async def test_a_chunked_body_growing_past_the_limit_is_413(small_limit_client, tenant, session):
    body = _padded(content_body(tenant.project["id"]), LIMIT * 3)

    async def chunks():
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    response = await small_limit_client.post(
        "/v1/content", content=chunks(), headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert error_of(response, 413, "PAYLOAD_TOO_LARGE")["details"] == {"maxBytes": LIMIT}
    assert await _content_rows(session) == 0


async def test_the_real_app_refuses_bodies_over_its_configured_limit(client, tenant):
    oversized = b" " * (get_settings().max_body_bytes + 1)

    response = await client.post(
        "/v1/content", content=oversized, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    error_of(response, 413, "PAYLOAD_TOO_LARGE")
