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
        response = await client.post("/v1/webhook-endpoints", json=endpoint_body(**fields),
                                     headers=headers or tenant.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def other_tenant(admin):
    """A second organization, to check that ids never cross organizations."""

    async def make():
        return await admin.tenant()

    return make


from tests.delivery.conftest import make_post  # noqa: E402,F401  (due posts written straight to PostgreSQL)
