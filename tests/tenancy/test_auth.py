"""CONTRACT §2: API keys by either header, stored only as a hash, and scopes."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest
from sqlalchemy import text

from crier.tenancy import auth
from crier.tenancy.auth import SCOPES
from tests.support.factories import ADMIN_HEADERS, bearer, content_body, error_of


async def _content_rows(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM content_containers"))


async def test_bearer_and_x_api_key_both_authenticate(client, tenant):
    key = tenant.key["key"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-Api-Key": key}):
        response = await client.get("/v1/social-accounts", headers=headers)
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["items"]} == {
            tenant.tiktok["id"],
            tenant.instagram["id"],
        }


async def test_missing_key_is_401_in_the_envelope(client, tenant):
    response = await client.get("/v1/social-accounts")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer lp_live_not-a-key-anyone-was-given"},
        {"X-Api-Key": "lp_live_not-a-key-anyone-was-given"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {
            "Authorization": f"Bearer {ADMIN_HEADERS['Authorization'].split()[1]}"
        },  # the operator token is no API key
    ],
    ids=["unknown-bearer", "unknown-x-api-key", "empty-bearer", "basic-scheme", "admin-token"],
)
async def test_unknown_or_malformed_key_is_401(client, tenant, headers):
    response = await client.get("/v1/social-accounts", headers=headers)

    error = error_of(response, 401, "UNAUTHORIZED")
    assert error["details"] == {}


async def test_revoked_key_is_401(client, admin, tenant):
    revoked = await client.delete(f"/admin/v1/api-keys/{tenant.key['id']}", headers=ADMIN_HEADERS)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revokedAt"] is not None
    assert "key" not in revoked.json()

    for headers in (tenant.headers, {"X-Api-Key": tenant.key["key"]}):
        error_of(await client.get("/v1/social-accounts", headers=headers), 401, "UNAUTHORIZED")


async def test_revoking_one_key_leaves_the_organizations_other_keys_working(client, admin, tenant):
    other = await admin.api_key(tenant.organization["id"])

    await client.delete(f"/admin/v1/api-keys/{tenant.key['id']}", headers=ADMIN_HEADERS)

    assert (await client.get("/v1/social-accounts", headers=bearer(other))).status_code == 200


async def test_key_is_stored_only_as_its_hash(client, tenant, session):
    plaintext = tenant.key["key"]
    assert plaintext.startswith("lp_live_")

    rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()

    assert len(rows) == 1
    assert all(plaintext not in str(value) for value in rows[0].values())
    assert rows[0]["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()


async def test_auth_is_checked_before_the_body(client, tenant, session):
    response = await client.post("/v1/content", json={"unexpected": True})

    error_of(response, 401, "UNAUTHORIZED")
    assert await _content_rows(session) == 0


# Every /v1 route with the scope it needs. `{container}` is filled with an existing container.
SCOPED_ROUTES = [
    ("POST", "/v1/content", "content:write"),
    ("PATCH", "/v1/content/{container}", "content:write"),
    ("GET", "/v1/content/{container}", "content:read"),
    ("GET", "/v1/social-accounts", "accounts:read"),
    ("GET", "/v1/tiktok-music", "publish:read"),
]


def _scopes_without(scope: str) -> list[str]:
    """Every scope except `scope` and, for a read scope, the write scope that implies it."""
    resource, _, action = scope.partition(":")
    missing = {scope, f"{resource}:write"} if action == "read" else {scope}
    return [granted for granted in SCOPES if granted not in missing]


@pytest.mark.parametrize(
    ("method", "path", "scope"), SCOPED_ROUTES, ids=[f"{m} {p}" for m, p, _ in SCOPED_ROUTES]
)
async def test_key_without_the_routes_scope_is_403_forbidden_scope(
    client, admin, tenant, session, method, path, scope
):
    container = await tenant.content(caption="Before")
    weak_key = await admin.api_key(tenant.organization["id"], _scopes_without(scope))
    body = {"POST": content_body(tenant.project["id"]), "PATCH": {"caption": "After"}}.get(method)

    response = await client.request(
        method, path.format(container=container["id"]), json=body, headers=bearer(weak_key)
    )

    error = error_of(response, 403, "FORBIDDEN_SCOPE")
    assert error["details"] == {"requiredScope": scope}
    assert await _content_rows(session) == 1
    assert await session.scalar(text("SELECT caption FROM content_containers")) == "Before"


async def test_write_scope_implies_the_matching_read_scope(client, admin, tenant):
    container = await tenant.content()
    writer = await admin.api_key(tenant.organization["id"], ["content:write", "publish:write"])

    content = await client.get(f"/v1/content/{container['id']}", headers=bearer(writer))
    music = await client.get("/v1/tiktok-music", headers=bearer(writer))

    assert content.status_code == 200, content.text
    assert content.json()["id"] == container["id"]
    assert music.status_code == 200, music.text


async def test_read_scope_does_not_imply_write(client, admin, tenant, session):
    reader = await admin.api_key(tenant.organization["id"], ["content:read"])

    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"]), headers=bearer(reader)
    )

    assert error_of(response, 403, "FORBIDDEN_SCOPE")["details"] == {"requiredScope": "content:write"}
    assert await _content_rows(session) == 0


async def test_requests_that_miss_the_key_cache_together_share_one_lookup(client, tenant, monkeypatch):
    lookups = []
    real = auth.repository.active_key

    async def counted(connection, *, key_hash):
        lookups.append(key_hash)
        return await real(connection, key_hash=key_hash)

    monkeypatch.setattr(auth.repository, "active_key", counted)
    auth.forget_api_keys()
    principals = await asyncio.gather(*(auth._principal_for(tenant.key["key"]) for _ in range(20)))
    assert len(lookups) == 1
    assert {p.key_id for p in principals} == {tenant.key["id"]}


async def test_a_busy_key_is_looked_up_again_ahead_and_a_revocation_drops_it(client, tenant, session):
    key = tenant.key["key"]
    auth.forget_api_keys()
    principal = await auth._principal_for(key)
    key_hash = auth.hash_api_key(key)
    # Revoked behind this process's back (as the CLI would), in the entry's last half-second.
    await session.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"), {"id": tenant.key["id"]}
    )
    await session.commit()
    auth._known_keys[key_hash] = (time.monotonic() + 0.2, principal)
    assert await auth._principal_for(key) == principal  # still within its second: served, looked up ahead
    await auth._lookups[key_hash]
    assert key_hash not in auth._known_keys
    assert await auth._principal_for(key) is None
