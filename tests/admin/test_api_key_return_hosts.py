"""ACCOUNTS.md: the operator grants `social:read` / `social:write` and sets the hosts an OAuth
returnUrl may point at when creating a key."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.support.factories import ADMIN_HEADERS, error_of


async def create_key(client, organization_id: str, **fields):
    return await client.post(
        f"/admin/v1/organizations/{organization_id}/api-keys",
        headers=ADMIN_HEADERS,
        json={"name": "partner", "scopes": ["social:write"], **fields},
    )


async def test_a_key_carries_its_allowed_return_hosts_normalized(client, admin, session):
    organization = await admin.organization()

    response = await create_key(
        client,
        organization["id"],
        allowedReturnHosts=["App.Example.com", "localhost:3000", "app.example.com"],
    )

    assert response.status_code == 201, response.text
    assert response.json()["allowedReturnHosts"] == ["app.example.com", "localhost:3000"]
    assert response.json()["scopes"] == ["social:write"]
    stored = await session.scalar(text("SELECT allowed_return_hosts FROM api_keys"))
    assert stored == ["app.example.com", "localhost:3000"]


async def test_a_key_without_return_hosts_has_none(client, admin):
    organization = await admin.organization()

    response = await create_key(client, organization["id"])

    assert response.status_code == 201 and response.json()["allowedReturnHosts"] == []


@pytest.mark.parametrize(
    "host",
    ["https://app.example.com", "app.example.com/path", "*.example.com", "", "a b", "app.example.com:0"],
)
async def test_a_return_host_that_is_not_a_plain_host_is_a_422(client, admin, session, host):
    organization = await admin.organization()

    response = await create_key(client, organization["id"], allowedReturnHosts=[host])

    error_of(response, 422, "VALIDATION")
    assert await session.scalar(text("SELECT count(*) FROM api_keys")) == 0
