"""POST /v1/content/{id}/validate: /publish's checks without writing, then the platforms' live checks."""

from __future__ import annotations

import httpx
import pytest
import respx

from crier.core.settings import get_settings
from crier.quota.ledger import PostgresLedger
from tests.publishing.helpers import assert_error, count_posts, sp_id, target

CREATOR = "/v2/post/publish/creator_info/query/"


def creator(**overrides) -> httpx.Response:
    data = {
        "creator_username": "creator",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 600,
        **overrides,
    }
    return httpx.Response(200, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "L"}})


@pytest.fixture
def tiktok():
    with respx.mock(base_url=get_settings().tiktok_api_base, assert_all_called=False) as router:
        yield router.post(CREATOR).mock(return_value=creator())


async def validate(tenant, container_id: str, targets: list[dict]):
    return await tenant.client.post(
        f"/v1/content/{container_id}/validate", json={"targets": targets}, headers=tenant.headers
    )


async def test_a_publishable_body_is_ok_and_nothing_is_written(tenant, session, tiktok):
    content = await tenant.content()

    response = await validate(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])

    assert response.status_code == 200, response.text
    assert response.json() == {
        "ok": True,
        "targets": [
            {"socialAccountId": tenant.tiktok["id"], "problems": []},
            {"socialAccountId": tenant.instagram["id"], "problems": []},
        ],
    }
    assert await count_posts(session) == 0
    assert tiktok.call_count == 1
    assert tiktok.calls[0].request.headers["Authorization"] == "Bearer act.tiktok-access"


async def test_a_privacy_level_the_creator_cannot_use_is_a_problem_on_its_field(tenant, tiktok):
    content = await tenant.content()

    response = await validate(
        tenant,
        content["id"],
        [target(tenant.tiktok, tiktokPostSettings={"privacyLevel": "FOLLOWER_OF_CREATOR"})],
    )

    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    [problem] = body["targets"][0]["problems"]
    assert problem["code"] == "TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH"
    assert problem["field"] == "body.targets.0.tiktokPostSettings.privacyLevel"
    assert "PUBLIC_TO_EVERYONE" in problem["message"]


async def test_an_interaction_the_creator_disabled_cannot_be_enabled(tenant, tiktok):
    tiktok.mock(return_value=creator(comment_disabled=True))
    content = await tenant.content()

    response = await validate(
        tenant, content["id"], [target(tenant.tiktok, tiktokPostSettings={"disableComment": False})]
    )

    [problem] = response.json()["targets"][0]["problems"]
    assert (problem["code"], problem["field"]) == (
        "TIKTOK_INTERACTION_DISABLED",
        "body.targets.0.tiktokPostSettings.disableComment",
    )


async def test_creator_info_refusing_the_token_is_reported_not_raised(tenant, tiktok):
    tiktok.mock(
        return_value=httpx.Response(
            401,
            json={"data": {}, "error": {"code": "access_token_invalid", "message": "expired", "log_id": "L"}},
        )
    )
    content = await tenant.content()

    response = await validate(tenant, content["id"], [target(tenant.tiktok)])

    assert response.status_code == 200
    [problem] = response.json()["targets"][0]["problems"]
    assert problem["code"] == "TIKTOK_ACCESS_TOKEN_INVALID"


async def test_instagram_caption_limits_are_problems(tenant, tiktok):
    content = await tenant.content(media_type="image")
    caption = " ".join(f"#tag{i}" for i in range(31))

    response = await validate(tenant, content["id"], [target(tenant.instagram, captionOverride=caption)])

    [problem] = response.json()["targets"][0]["problems"]
    assert (problem["code"], problem["field"]) == ("TOO_MANY_HASHTAGS", "body.targets.0.captionOverride")
    assert tiktok.call_count == 0  # Instagram targets need no creator_info


async def test_a_full_publishing_quota_is_projected_as_deferral(tenant, tiktok):
    await PostgresLedger(account_id=tenant.instagram["id"], post_id=None).save_quota(
        "instagram.content_publishing", limit=25, used=25, window_seconds=86400, source="platform"
    )
    content = await tenant.content(media_type="image")

    response = await validate(tenant, content["id"], [target(tenant.instagram)])

    [problem] = response.json()["targets"][0]["problems"]
    assert problem["code"] == "QUOTA_WOULD_DEFER" and "deferred, not failed" in problem["message"]


async def test_a_contract_check_answers_exactly_as_publish_would_and_writes_nothing(
    tenant, session, tiktok, admin
):
    other = await admin.tenant()
    content = await tenant.content()

    response = await validate(tenant, content["id"], [target(other.tiktok)])

    assert_error(response, 404, "NOT_FOUND", socialAccountId=other.tiktok["id"])
    assert await count_posts(session) == 0 and tiktok.call_count == 0


async def test_a_taken_scheduled_post_id_is_refused_like_publish_does(tenant, session, tiktok):
    content = await tenant.content()
    post_id = sp_id()
    published = await tenant.client.post(
        f"/v1/content/{content['id']}/publish",
        headers=tenant.headers,
        json={"targets": [target(tenant.tiktok, scheduledPostId=post_id)]},
    )
    assert published.status_code == 200

    response = await validate(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=post_id)])

    assert_error(response, 409, "CONFLICT_DUPLICATE_ID", scheduledPostId=post_id)
    assert await count_posts(session) == 1


async def test_an_unfinished_container_is_a_conflict(tenant, tiktok):
    content = await tenant.content(status="generating")
    assert_error(
        await validate(tenant, content["id"], [target(tenant.tiktok)]), 409, "CONFLICT", status="generating"
    )


async def test_validating_needs_publish_write(client, admin):
    tenant = await admin.tenant(scopes=["content:write", "publish:read"])
    content = await tenant.content()
    assert_error(
        await validate(tenant, content["id"], [target(tenant.tiktok)]),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="publish:write",
    )
