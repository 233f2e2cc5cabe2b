"""CONTRACT §10: organizations and their API keys (the key is shown once, then only its hash exists)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from crier.tenancy.auth import SCOPES
from tests.support.factories import ADMIN_HEADERS, bearer, error_of


async def test_create_organization(client):
    response = await client.post(
        "/admin/v1/organizations",
        headers=ADMIN_HEADERS,
        json={"name": "Acme", "primaryOperatorPhone": "+15555550100", "primaryOperatorPhoneVerified": True},
    )

    assert response.status_code == 201, response.text
    organization = response.json()
    assert organization["id"].startswith("org_")
    assert organization["name"] == "Acme"
    assert organization["primaryOperatorPhone"] == "+15555550100"
    assert organization["primaryOperatorPhoneVerified"] is True
    assert organization["createdAt"].endswith("Z")


async def test_a_phone_cannot_be_verified_without_a_phone(admin):
    organization = await admin.organization(primaryOperatorPhoneVerified=True)

    assert organization["primaryOperatorPhone"] is None
    assert organization["primaryOperatorPhoneVerified"] is False


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "Acme", "primaryOperatorPhone": "555-0100"}, "body.primaryOperatorPhone"),
        ({"name": "Acme", "plan": "gold"}, "body.plan"),
    ],
)
async def test_invalid_organization_is_422_and_not_written(client, session, body, path):
    response = await client.post("/admin/v1/organizations", json=body, headers=ADMIN_HEADERS)

    error = error_of(response, 422, "VALIDATION")
    assert [e["path"] for e in error["details"]["errors"]] == [path]
    assert await session.scalar(text("SELECT count(*) FROM organizations")) == 0


async def test_create_api_key_shows_the_key_once(client, admin):
    organization = await admin.organization()

    response = await client.post(
        f"/admin/v1/organizations/{organization['id']}/api-keys",
        headers=ADMIN_HEADERS,
        json={"name": "ci", "scopes": ["content:write", "content:read", "content:write"]},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("key_")
    assert created["key"].startswith("lp_live_") and len(created["key"]) > 40
    assert created["scopes"] == ["content:read", "content:write"]
    assert created["organizationId"] == organization["id"]
    assert created["keyPrefix"] == created["key"][:12]
    usable = await client.get(f"/v1/content/cnt_{uuid.uuid4()}", headers=bearer(created))
    error_of(usable, 404, "NOT_FOUND")  # authenticated and in scope: only the container is missing


async def test_an_api_key_cannot_be_read_back(client, tenant):
    by_id = await client.get(f"/admin/v1/api-keys/{tenant.key['id']}", headers=ADMIN_HEADERS)
    by_organization = await client.get(
        f"/admin/v1/organizations/{tenant.organization['id']}/api-keys", headers=ADMIN_HEADERS
    )
    organizations = await client.get("/admin/v1/organizations", headers=ADMIN_HEADERS)

    error_of(by_id, 405, "METHOD_NOT_ALLOWED")
    error_of(by_organization, 405, "METHOD_NOT_ALLOWED")
    assert organizations.status_code == 200
    assert tenant.key["key"] not in organizations.text


@pytest.mark.parametrize(("scopes", "path"), [([], "body.scopes"), (["content:delete"], "body.scopes")])
async def test_api_key_scopes_must_be_known(client, admin, session, scopes, path):
    organization = await admin.organization()

    response = await client.post(
        f"/admin/v1/organizations/{organization['id']}/api-keys",
        headers=ADMIN_HEADERS,
        json={"name": "ci", "scopes": scopes},
    )

    assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == [path]
    assert await session.scalar(text("SELECT count(*) FROM api_keys")) == 0


@pytest.mark.parametrize("organization_id", [f"org_{uuid.uuid4()}", "org_nope"])
async def test_api_key_for_a_missing_organization_is_404(client, session, organization_id):
    response = await client.post(
        f"/admin/v1/organizations/{organization_id}/api-keys",
        headers=ADMIN_HEADERS,
        json={"name": "ci", "scopes": list(SCOPES)},
    )

    error_of(response, 404, "NOT_FOUND")
    assert await session.scalar(text("SELECT count(*) FROM api_keys")) == 0


async def test_revoking_is_idempotent_and_keeps_the_first_revocation_time(client, tenant):
    first = await client.delete(f"/admin/v1/api-keys/{tenant.key['id']}", headers=ADMIN_HEADERS)
    second = await client.delete(f"/admin/v1/api-keys/{tenant.key['id']}", headers=ADMIN_HEADERS)

    assert first.status_code == second.status_code == 200
    assert second.json()["revokedAt"] == first.json()["revokedAt"] is not None


@pytest.mark.parametrize("key_id", [f"key_{uuid.uuid4()}", "nope"])
async def test_revoking_a_missing_key_is_404(client, key_id):
    error_of(await client.delete(f"/admin/v1/api-keys/{key_id}", headers=ADMIN_HEADERS), 404, "NOT_FOUND")
