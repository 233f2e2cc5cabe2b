"""ACCOUNTS.md: a refresh that fails for good moves the account to `reauth_required`, its due posts
fail with CREDENTIAL_INVALID without another try against the dead token, and a reauth brings the
same account back."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from crier.accounts.service import mark_reauth_required
from tests.security.support import delivering, sandbox_settings, settled
from tests.support.oauth import publish_to, returned_to


async def sandbox_calls(sandbox: str) -> dict[str, int]:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{sandbox}/_sandbox/records")).json()["calls"]


async def test_a_refused_refresh_needs_a_reauth_and_a_reauth_brings_the_same_account_back(
    partner, sandbox, session
):
    url, _ = await partner.connect("tiktok")
    account_id = (await partner.status(url["state"]))["socialAccountId"]
    await session.execute(text("UPDATE social_accounts SET token_expires_at = now() - interval '1 hour'"))
    await session.commit()
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{sandbox}/_sandbox/faults",
            json={"calls": [{"endpoint": "tiktok.oauth_token", "error": "invalid_grant", "times": 0}]},
        )

    post_id = await publish_to(partner, account_id, "dies")
    async with delivering(sandbox_settings(sandbox)):
        post = (await settled([post_id]))[post_id]

    assert post.status == "failed" and post.last_error["code"] == "CREDENTIAL_INVALID"
    [account] = (await partner.accounts())["items"]
    assert account["status"] == "reauth_required" and account["readiness"]["publish"] is False
    health = (
        await partner.client.get(
            f"/v1/projects/{partner.project['id']}/social-accounts/{account_id}/health",
            headers=partner.headers,
        )
    ).json()
    assert "invalid_grant" in health["lastRefreshError"]

    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox}/_sandbox/faults", json={"reset": True})
        await http.post(f"{sandbox}/_sandbox/reset")
    reauth = await partner.reauth_url(account_id)
    assert (
        returned_to(await partner.callback(await partner.consent(reauth["authorizeUrl"])))["status"]
        == "success"
    )
    post_id = await publish_to(partner, account_id, "lives")
    async with delivering(sandbox_settings(sandbox)):
        post = (await settled([post_id]))[post_id]

    assert post.status == "published", post.last_error
    [account] = (await partner.accounts())["items"]
    assert account["id"] == account_id and account["status"] == "connected"


async def test_due_posts_of_an_account_needing_reauth_fail_without_calling_the_platform(
    tenant, sandbox, session
):
    response = await tenant.client.post(
        f"/v1/content/{(await tenant.content())['id']}/publish",
        json={"targets": [{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}]},
        headers=tenant.headers,
    )
    post_id = response.json()["scheduledPostIds"][0]
    assert await mark_reauth_required(session, account_id=tenant.tiktok["id"], reason="refresh token revoked")
    await session.commit()

    async with delivering(sandbox_settings(sandbox)):
        post = (await settled([post_id]))[post_id]

    assert post.status == "failed" and post.last_error["code"] == "CREDENTIAL_INVALID"
    assert "refresh token revoked" in post.last_error["message"]
    assert not any(name.startswith("tiktok.") for name in await sandbox_calls(sandbox))


async def test_the_status_change_happens_once_so_the_needs_reauth_event_fires_once(tenant, session):
    first = await mark_reauth_required(session, account_id=tenant.tiktok["id"], reason="first")
    second = await mark_reauth_required(session, account_id=tenant.tiktok["id"], reason="second")
    await session.commit()

    assert (first, second) == (True, False)
    row = (
        await session.execute(
            text("SELECT status, disconnected_reason FROM social_accounts WHERE id = :id"),
            {"id": tenant.tiktok["id"]},
        )
    ).one()
    assert tuple(row) == ("reauth_required", "first")


async def test_a_revoked_account_never_becomes_reauth_required(tenant, session):
    await session.execute(
        text("UPDATE social_accounts SET status = 'revoked' WHERE id = :id"), {"id": tenant.tiktok["id"]}
    )

    assert await mark_reauth_required(session, account_id=tenant.tiktok["id"], reason="late refresh") is False


async def test_an_instagram_token_refused_and_not_refreshable_needs_a_reauth(partner, sandbox, session):
    url, _ = await partner.connect("instagram")
    account_id = (await partner.status(url["state"]))["socialAccountId"]
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{sandbox}/_sandbox/faults",
            json={
                "calls": [
                    {"endpoint": "instagram.media_create", "error": 190, "status": 400},
                    {"endpoint": "instagram.refresh", "error": 190, "status": 400, "times": 0},
                ]
            },
        )

    post_id = await publish_to(partner, account_id, "ig dies")
    async with delivering(sandbox_settings(sandbox)):
        post = (await settled([post_id]))[post_id]

    assert post.status == "failed" and post.last_error["code"] == "CREDENTIAL_INVALID"
    [account] = (await partner.accounts())["items"]
    assert account["status"] == "reauth_required"
