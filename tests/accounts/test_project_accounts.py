"""ACCOUNTS.md: a project's accounts as a partner manages them: the keyset-paginated list, health,
and revoke (which cancels the account's unclaimed posts in the same transaction)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from tests.publishing.helpers import schedule, sql, target
from tests.support.factories import error_of

FIELDS = {
    "id",
    "platform",
    "handle",
    "displayName",
    "avatarUrl",
    "status",
    "grantedScopes",
    "readiness",
    "tokenExpiresAt",
    "connectedAt",
}


def accounts_path(tenant, *rest: str) -> str:
    return "/".join([f"/v1/projects/{tenant.project['id']}/social-accounts", *rest])


async def test_the_list_answers_every_account_of_the_project_without_tokens(client, tenant):
    response = await client.get(accounts_path(tenant), headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["nextCursor"] is None and [item["id"] for item in body["items"]] == [
        tenant.tiktok["id"],
        tenant.instagram["id"],
    ]
    assert all(set(item) == FIELDS for item in body["items"])
    assert body["items"][0]["status"] == "connected" and body["items"][0]["connectedAt"].endswith("Z")
    assert "act.tiktok-access" not in response.text and "IGQ-instagram-access" not in response.text


async def test_the_list_pages_with_a_keyset_cursor(client, admin, tenant):
    for number in range(3):
        await admin.tiktok_account(
            tenant.project["id"], handle=f"extra{number}", externalAccountId=f"tt-{number}"
        )

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(accounts_path(tenant), params=params, headers=tenant.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert len(seen) == 5 == len(set(seen))


async def test_a_bad_cursor_is_a_422(client, tenant):
    response = await client.get(accounts_path(tenant), params={"cursor": "bm9wZQ"}, headers=tenant.headers)

    error_of(response, 422, "VALIDATION")


async def test_listing_needs_social_read(client, admin, tenant):
    key = await admin.api_key(tenant.organization["id"], scopes=["publish:read"])

    response = await client.get(accounts_path(tenant), headers={"Authorization": f"Bearer {key['key']}"})

    error_of(response, 403, "FORBIDDEN_SCOPE")


async def test_another_organization_s_project_is_404(client, admin, tenant):
    other = await admin.tenant()

    error_of(await client.get(accounts_path(other), headers=tenant.headers), 404, "NOT_FOUND")
    error_of(
        await client.get(accounts_path(other, other.tiktok["id"], "health"), headers=tenant.headers),
        404,
        "NOT_FOUND",
    )
    error_of(
        await client.delete(accounts_path(other, other.tiktok["id"]), headers=tenant.headers),
        404,
        "NOT_FOUND",
    )


async def test_health_tells_token_lifetimes_refresh_and_missing_scopes(client, admin, tenant, session):
    account = await admin.tiktok_account(
        tenant.project["id"], externalAccountId="tt-x", grantedScopes=["video.upload"]
    )
    await session.execute(
        text("UPDATE social_accounts SET last_refresh_error = 'x' WHERE id = :id"), {"id": account["id"]}
    )
    await session.commit()

    response = await client.get(accounts_path(tenant, account["id"], "health"), headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "connected",
        "tokenExpiresAt": None,
        "refreshTokenExpiresAt": None,
        "lastRefreshAt": None,
        "lastRefreshError": "x",
        "grantedScopes": ["video.upload"],
        "missingScopes": {"publish": ["video.publish"], "draft": []},
    }


async def test_health_of_a_missing_account_is_404(client, tenant):
    response = await client.get(accounts_path(tenant, f"sa_{uuid.uuid4()}", "health"), headers=tenant.headers)

    error_of(response, 404, "NOT_FOUND")


async def test_revoke_cancels_scheduled_and_stashed_posts_and_lets_publishing_ones_finish(
    client, admin, sandbox, session
):
    tenant = await admin.tenant(requiresApproval=True)
    awaiting = await tenant.content()
    stashed = (await schedule(tenant, awaiting["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"]
    content = await tenant.content()
    await client.post(f"/v1/content/{content['id']}/approve", headers=tenant.headers)
    scheduled = (await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.tiktok)])).json()
    scheduled_ids = scheduled["scheduledPostIds"]
    await session.execute(
        text("UPDATE scheduled_posts SET status = 'publishing' WHERE id = :id"), {"id": scheduled_ids[1]}
    )
    await session.commit()
    other = await tenant.content()
    await client.post(f"/v1/content/{other['id']}/approve", headers=tenant.headers)
    untouched = (await schedule(tenant, other["id"], [target(tenant.instagram)])).json()["scheduledPostIds"]

    assert (
        dict(await sql(session, "SELECT id, status FROM scheduled_posts"))[stashed[0]]
        == "blocked_on_approval"
    )

    response = await client.delete(accounts_path(tenant, tenant.tiktok["id"]), headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked" and response.json()["readiness"]["publish"] is False
    statuses = dict(await sql(session, "SELECT id, status FROM scheduled_posts"))
    assert statuses[stashed[0]] == "canceled" and statuses[scheduled_ids[0]] == "canceled"
    assert statuses[scheduled_ids[1]] == "publishing" and statuses[untouched[0]] == "scheduled"
    async with httpx.AsyncClient() as http:
        records = (await http.get(f"{sandbox}/_sandbox/records")).json()
    assert records["oauth"]["revocations"] == [{"platform": "tiktok", "account": "act.tiktok-access"}]


async def test_revoking_twice_answers_the_revoked_account_and_calls_the_platform_once(
    client, tenant, sandbox
):
    first = await client.delete(accounts_path(tenant, tenant.tiktok["id"]), headers=tenant.headers)
    again = await client.delete(accounts_path(tenant, tenant.tiktok["id"]), headers=tenant.headers)

    assert first.status_code == again.status_code == 200 and again.json()["status"] == "revoked"
    async with httpx.AsyncClient() as http:
        records = (await http.get(f"{sandbox}/_sandbox/records")).json()
    assert len(records["oauth"]["revocations"]) == 1


async def test_revoke_stands_when_the_platform_is_down(client, tenant, sandbox, session):
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{sandbox}/_sandbox/faults", json={"calls": [{"endpoint": "tiktok.oauth_revoke", "status": 500}]}
        )

    response = await client.delete(accounts_path(tenant, tenant.tiktok["id"]), headers=tenant.headers)

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert (
        await session.scalar(
            text("SELECT status FROM social_accounts WHERE id = :id"), {"id": tenant.tiktok["id"]}
        )
        == "revoked"
    )


async def test_revoke_needs_social_write(client, admin, tenant):
    key = await admin.api_key(tenant.organization["id"], scopes=["social:read"])

    response = await client.delete(
        accounts_path(tenant, tenant.tiktok["id"]), headers={"Authorization": f"Bearer {key['key']}"}
    )

    error_of(response, 403, "FORBIDDEN_SCOPE")
