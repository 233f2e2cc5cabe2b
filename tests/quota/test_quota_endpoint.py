"""GET /v1/social-accounts/{id}/quota: {platform, limits: [{name, window, limit, used, resetsAt, source}]}."""

from __future__ import annotations

from crier.quota.ledger import PostgresLedger
from tests.publishing.helpers import assert_error


async def quota(client, tenant, account_id: str):
    return await client.get(f"/v1/social-accounts/{account_id}/quota", headers=tenant.headers)


async def test_a_tiktok_account_answers_its_documented_rates_and_unlearned_caps(client, tenant):
    ledger = PostgresLedger(account_id=tenant.tiktok["id"], post_id=None)
    await ledger.pace("tiktok.init", limit=6, window_seconds=60, may_wait_seconds=0)
    await ledger.log_sent("tiktok.direct_posts")

    response = await quota(client, tenant, tenant.tiktok["id"])

    assert response.status_code == 200, response.text
    body = response.json()
    limits = {item["name"]: item for item in body["limits"]}
    assert body["platform"] == "tiktok"
    assert set(limits) == {
        "tiktok.init",
        "tiktok.creator_info",
        "tiktok.status",
        "tiktok.direct_posts",
        "tiktok.inbox_shares",
    }
    assert {key: limits["tiktok.init"][key] for key in ("window", "limit", "used", "source")} == {
        "window": 60,
        "limit": 6,
        "used": 1,
        "source": "documented",
    }
    assert limits["tiktok.init"]["resetsAt"].endswith("Z")
    assert (limits["tiktok.creator_info"]["limit"], limits["tiktok.status"]["limit"]) == (20, 30)
    assert (limits["tiktok.direct_posts"]["limit"], limits["tiktok.direct_posts"]["used"]) == (None, 1)


async def test_a_learned_cap_answers_with_source_learned(client, tenant):
    ledger = PostgresLedger(account_id=tenant.tiktok["id"], post_id=None)
    await ledger.save_quota(
        "tiktok.direct_posts",
        limit=15,
        used=15,
        window_seconds=86400,
        source="learned",
        resets_in_seconds=3600,
    )

    limits = {
        item["name"]: item for item in (await quota(client, tenant, tenant.tiktok["id"])).json()["limits"]
    }

    assert (limits["tiktok.direct_posts"]["limit"], limits["tiktok.direct_posts"]["source"]) == (
        15,
        "learned",
    )
    assert limits["tiktok.direct_posts"]["resetsAt"].endswith("Z")


async def test_an_instagram_account_answers_the_platforms_publishing_limit(client, tenant):
    ledger = PostgresLedger(account_id=tenant.instagram["id"], post_id=None)
    await ledger.save_quota(
        "instagram.content_publishing", limit=50, used=7, window_seconds=86400, source="platform"
    )

    body = (await quota(client, tenant, tenant.instagram["id"])).json()

    assert body["platform"] == "instagram"
    [limit] = body["limits"]
    assert {key: limit[key] for key in ("name", "window", "limit", "used", "source")} == {
        "name": "instagram.content_publishing",
        "window": 86400,
        "limit": 50,
        "used": 7,
        "source": "platform",
    }


async def test_another_organizations_account_and_malformed_ids_are_not_found(client, tenant, admin):
    other = await admin.tenant()
    for account_id in (other.tiktok["id"], "sa_nope"):
        assert_error(await quota(client, tenant, account_id), 404, "NOT_FOUND")


async def test_reading_quota_needs_accounts_read(client, admin):
    tenant = await admin.tenant(scopes=["publish:read"])
    assert_error(
        await quota(client, tenant, tenant.tiktok["id"]),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="accounts:read",
    )
