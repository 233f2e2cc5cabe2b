"""Operator views (issue 12): keys, projects, accounts and posts across organizations; revoke by prefix."""

from __future__ import annotations

import json

from tests.publishing.helpers import publish, sql, target, write_sql
from tests.support.factories import ADMIN_HEADERS, error_of


async def get(client, path: str, **params):
    return await client.get(f"/admin/v1{path}", params=params, headers=ADMIN_HEADERS)


async def test_key_listing_shows_prefix_scopes_and_revocation_never_the_key_or_its_hash(client, tenant):
    response = await get(client, "/api-keys")

    assert response.status_code == 200
    [listed] = response.json()
    assert listed == {
        "id": tenant.key["id"],
        "organizationId": tenant.organization["id"],
        "name": "test",
        "scopes": tenant.key["scopes"],
        "keyPrefix": tenant.key["key"][:12],
        "createdAt": tenant.key["createdAt"],
        "revokedAt": None,
        "allowedReturnHosts": [],
    }
    assert tenant.key["key"] not in response.text and "hash" not in response.text.lower()


async def test_key_listing_filters_by_organization(client, admin, tenant):
    other = await admin.organization("Other")
    other_key = await admin.api_key(other["id"])

    listed = (await get(client, "/api-keys", organizationId=other["id"])).json()

    assert [key["id"] for key in listed] == [other_key["id"]]


async def test_listing_an_unknown_organization_is_404(client):
    error_of(
        await get(client, "/api-keys", organizationId="org_00000000-0000-4000-8000-000000000000"),
        404,
        "NOT_FOUND",
    )
    error_of(await get(client, "/projects", organizationId="nonsense"), 404, "NOT_FOUND")


async def test_revoke_by_listed_prefix_stops_the_key(client, tenant, session):
    prefix = tenant.key["key"][:12]

    response = await client.delete(f"/admin/v1/api-keys/{prefix}", headers=ADMIN_HEADERS)

    assert response.status_code == 200
    assert response.json()["id"] == tenant.key["id"] and response.json()["revokedAt"] is not None
    error_of(await client.get("/v1/social-accounts", headers=tenant.headers), 401, "UNAUTHORIZED")


async def test_a_prefix_two_keys_share_is_409_naming_both_and_revokes_nothing(client, admin, tenant, session):
    second = await admin.api_key(tenant.organization["id"])
    prefix = tenant.key["key"][:12]
    await write_sql(
        session, "UPDATE api_keys SET key_prefix = :prefix WHERE id = :id", prefix=prefix, id=second["id"]
    )

    response = await client.delete(f"/admin/v1/api-keys/{prefix}", headers=ADMIN_HEADERS)

    error = error_of(response, 409, "CONFLICT")
    assert sorted(error["details"]["keyIds"]) == sorted([tenant.key["id"], second["id"]])
    assert (await sql(session, "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL"))[0][0] == 0


async def test_revoke_by_an_unknown_prefix_is_404(client, tenant):
    error_of(await client.delete("/admin/v1/api-keys/lp_live_zzzz", headers=ADMIN_HEADERS), 404, "NOT_FOUND")


async def test_project_listing(client, admin, tenant):
    second = await admin.project(tenant.organization["id"], name="Second", requiresApproval=True)

    listed = (await get(client, "/projects", organizationId=tenant.organization["id"])).json()

    assert [(p["id"], p["name"], p["requiresApproval"]) for p in listed] == [
        (tenant.project["id"], "Main", False),
        (second["id"], "Second", True),
    ]


async def test_account_listing_shows_status_and_organization_never_tokens(client, tenant):
    await client.delete(f"/admin/v1/social-accounts/{tenant.instagram['id']}", headers=ADMIN_HEADERS)

    response = await get(client, "/social-accounts", projectId=tenant.project["id"])

    listed = {account["id"]: account for account in response.json()}
    assert listed[tenant.tiktok["id"]]["status"] == "connected"
    assert listed[tenant.instagram["id"]]["status"] == "revoked"
    assert listed[tenant.instagram["id"]]["disconnectedReason"] == "operator"
    assert {account["organizationId"] for account in listed.values()} == {tenant.organization["id"]}
    assert "act.tiktok-access" not in response.text and "IGQ-instagram-access" not in response.text
    assert "accessToken" not in response.text and "refreshToken" not in response.text


async def _published_posts(tenant, count: int) -> list[str]:
    container = await tenant.content()
    response = await publish(tenant, container["id"], [target(tenant.tiktok) for _ in range(count)])
    assert response.status_code in (200, 201, 202), response.text
    return response.json()["scheduledPostIds"]


async def _fail(session, post_id: str, code: str, platform: str = "tiktok") -> None:
    error = json.dumps({"code": code, "message": "it broke", "platform": platform})
    await write_sql(
        session,
        "UPDATE scheduled_posts SET status = 'failed', due_at = NULL, "
        "last_error = CAST(:error AS jsonb) WHERE id = :id",
        error=error,
        id=post_id,
    )


async def test_post_listing_spans_organizations_and_filters_failures_by_error_code(
    client, admin, tenant, session
):
    other = await admin.tenant()
    [ours] = await _published_posts(tenant, 1)
    [theirs, fine] = await _published_posts(other, 2)
    await _fail(session, ours, "OUTCOME_UNKNOWN")
    await _fail(session, theirs, "TIKTOK_rate_limit_exceeded")

    failed = (await get(client, "/scheduled-posts", status="failed")).json()
    unknown = (await get(client, "/scheduled-posts", errorCode="OUTCOME_UNKNOWN")).json()
    theirs_only = (await get(client, "/scheduled-posts", organizationId=other.organization["id"])).json()

    assert {post["id"] for post in failed["items"]} == {ours, theirs}
    assert [(p["id"], p["organizationId"], p["lastError"]["code"]) for p in unknown["items"]] == [
        (ours, tenant.organization["id"], "OUTCOME_UNKNOWN")
    ]
    assert {post["id"] for post in theirs_only["items"]} == {theirs, fine}
    assert failed["nextCursor"] is None


async def test_post_listing_filters_by_platform_and_time_range(client, tenant, session):
    [tiktok_post] = await _published_posts(tenant, 1)
    container = await tenant.content(media_type="image")
    await publish(tenant, container["id"], [target(tenant.instagram)])
    await write_sql(
        session,
        "UPDATE scheduled_posts SET scheduled_for = '2026-01-01T10:00:00Z' WHERE id = :id",
        id=tiktok_post,
    )

    tiktok = (await get(client, "/scheduled-posts", platform="tiktok")).json()
    in_range = (
        await get(client, "/scheduled-posts", **{"from": "2026-01-01T09:00:00Z"}, to="2026-01-01T11:00:00Z")
    ).json()
    after = (await get(client, "/scheduled-posts", **{"from": "2026-01-01T11:00:00Z"})).json()

    assert [post["id"] for post in tiktok["items"]] == [tiktok_post]
    assert [post["id"] for post in in_range["items"]] == [tiktok_post]
    assert tiktok_post not in {post["id"] for post in after["items"]} and len(after["items"]) == 1


async def test_post_listing_pages_newest_first_with_a_keyset_cursor(client, tenant):
    posted = await _published_posts(tenant, 5)

    seen, cursor = [], None
    while True:
        page = (
            await get(client, "/scheduled-posts", limit=2, **({"cursor": cursor} if cursor else {}))
        ).json()
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert sorted(post["id"] for post in seen) == sorted(posted)
    order = [(post["scheduledFor"], post["id"]) for post in seen]
    assert order == sorted(order, reverse=True)


async def test_post_listing_refuses_a_bad_cursor_and_limit(client):
    error_of(await get(client, "/scheduled-posts", cursor="not-a-cursor"), 422, "VALIDATION")
    error_of(await get(client, "/scheduled-posts", limit=0), 422, "VALIDATION")
    error_of(await get(client, "/scheduled-posts", status="exploded"), 422, "VALIDATION")


async def test_listings_need_the_admin_token(client, tenant):
    for path in ("/api-keys", "/projects", "/social-accounts", "/scheduled-posts"):
        error_of(await client.get(f"/admin/v1{path}", headers=tenant.headers), 401, "UNAUTHORIZED")
