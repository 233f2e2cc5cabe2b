"""CONTRACT §9: `GET /v1/social-accounts` lists the organization's accounts, never with a token."""

from __future__ import annotations

from sqlalchemy import text

PLAINTEXT_TOKENS = (
    "act.tiktok-access",
    "rft.tiktok-refresh",
    "IGQ-instagram-access",
)  # as the factories connect them


async def test_listing_shows_each_account_with_its_readiness(client, tenant):
    response = await client.get("/v1/social-accounts", headers=tenant.headers)

    assert response.status_code == 200, response.text
    items = {item["id"]: item for item in response.json()["items"]}
    tiktok = items[tenant.tiktok["id"]]
    assert (tiktok["platform"], tiktok["handle"], tiktok["projectId"], tiktok["status"]) == (
        "tiktok",
        "creator",
        tenant.project["id"],
        "connected",
    )
    assert tiktok["readiness"] == {"publish": True, "draft": True, "managed": False}
    assert items[tenant.instagram["id"]]["platform"] == "instagram"


async def test_listing_never_contains_a_token(client, tenant, session):
    encrypted = (
        await session.execute(
            text("SELECT access_token_encrypted, refresh_token_encrypted FROM social_accounts")
        )
    ).all()

    response = await client.get("/v1/social-accounts", headers=tenant.headers)

    assert response.status_code == 200
    secrets = [*PLAINTEXT_TOKENS, *(value for row in encrypted for value in row if value)]
    assert all(secret not in response.text for secret in secrets)
    assert all("token" not in field.lower() for item in response.json()["items"] for field in item)


async def test_project_id_filters_the_listing(client, admin, tenant):
    second = await admin.project(tenant.organization["id"], name="Second")
    account = await admin.tiktok_account(second["id"], handle="second")

    filtered = await client.get(
        "/v1/social-accounts", params={"projectId": second["id"]}, headers=tenant.headers
    )
    everything = await client.get("/v1/social-accounts", headers=tenant.headers)

    assert [item["id"] for item in filtered.json()["items"]] == [account["id"]]
    assert {item["id"] for item in everything.json()["items"]} == {
        tenant.tiktok["id"],
        tenant.instagram["id"],
        account["id"],
    }


async def test_a_project_without_accounts_lists_none(client, admin, tenant):
    empty = await admin.project(tenant.organization["id"], name="Empty")

    response = await client.get(
        "/v1/social-accounts", params={"projectId": empty["id"]}, headers=tenant.headers
    )

    assert response.status_code == 200
    assert response.json() == {"items": []}
