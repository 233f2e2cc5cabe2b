"""CONTRACT §6: whether an account is ready for each mode, as `GET /v1/social-accounts` reports it."""

from __future__ import annotations

import pytest

from crier.accounts.readiness import MANAGED_TEMPLATE_ID


async def _readiness(client, tenant, account_id: str) -> dict[str, bool]:
    response = await client.get("/v1/social-accounts", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return next(item["readiness"] for item in response.json()["items"] if item["id"] == account_id)


@pytest.mark.parametrize(
    ("scopes", "publish", "draft"),
    [
        (["video.publish", "video.upload"], True, True),
        (["video.publish"], True, False),
        (["video.upload"], False, True),
        ([], False, False),
    ],
)
async def test_tiktok_publish_needs_video_publish_and_draft_needs_video_upload(
    client, admin, tenant, scopes, publish, draft
):
    account = await admin.tiktok_account(tenant.project["id"], grantedScopes=scopes)

    readiness = await _readiness(client, tenant, account["id"])

    assert (readiness["publish"], readiness["draft"]) == (publish, draft)


@pytest.mark.parametrize(
    ("account_type", "publish"),
    [
        ("business", True),
        ("creator", True),
        ("personal", True),  # accepted here; the Graph API refuses it at publish time (CONTRACT §6)
        (None, False),
    ],
)
async def test_instagram_publish_needs_a_known_account_type(client, admin, tenant, account_type, publish):
    account = await admin.instagram_account(tenant.project["id"], instagramAccountType=account_type)

    readiness = await _readiness(client, tenant, account["id"])

    assert readiness["publish"] is publish
    assert readiness["draft"] is True  # an SMS to the operator; a missing phone fails at publish time


async def test_managed_needs_a_managed_layer_with_a_provider(client, admin, tenant):
    layer = await admin.managed_layer(tenant.project["id"])
    account = await admin.tiktok_account(tenant.project["id"], layerId=layer["id"])

    assert (await _readiness(client, tenant, account["id"]))["managed"] is True


@pytest.mark.parametrize(
    ("template_id", "config"),
    [
        (
            "00000000-0000-4000-8000-000000000000",
            {"provider": "acme", "baseUrl": "https://managed.example.com", "signingSecret": "s3cret"},
        ),
        (MANAGED_TEMPLATE_ID, {}),
    ],
    ids=["other-template", "no-provider"],
)
async def test_managed_is_not_ready_without_the_template_and_a_provider(
    client, admin, tenant, template_id, config
):
    layer = await admin.layer(tenant.project["id"], template_id, config)
    account = await admin.tiktok_account(tenant.project["id"], layerId=layer["id"])

    assert (await _readiness(client, tenant, account["id"]))["managed"] is False


async def test_an_account_outside_any_layer_is_not_ready_for_managed(client, tenant):
    assert (await _readiness(client, tenant, tenant.instagram["id"]))["managed"] is False


@pytest.mark.parametrize("platform", ["tiktok", "instagram"])
async def test_a_disconnected_account_is_ready_for_no_mode(client, admin, tenant, platform):
    layer = await admin.managed_layer(tenant.project["id"])
    connect = admin.tiktok_account if platform == "tiktok" else admin.instagram_account
    account = await connect(tenant.project["id"], layerId=layer["id"])
    assert all((await _readiness(client, tenant, account["id"])).values())

    await admin.disconnect(account["id"])

    assert await _readiness(client, tenant, account["id"]) == {
        "publish": False,
        "draft": False,
        "managed": False,
    }
