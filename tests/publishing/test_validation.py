"""CONTRACT §4 step 2: the body schema answers 422 VALIDATION and nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.publishing.helpers import count_posts, error_of, later, publish, schedule, sp_id, target


async def assert_refused(response, session, path: str | None = None, **details):
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "VALIDATION"
    if path is not None:
        assert path in [e["path"] for e in error["details"]["errors"]], error
    for name, value in details.items():
        assert error["details"][name] == value
    assert await count_posts(session) == 0


async def test_targets_may_not_be_empty(client, tenant, session):
    content = await tenant.content()
    await assert_refused(await publish(tenant, content["id"], []), session, "body.targets")


async def test_at_most_fifty_targets(client, tenant, session):
    content = await tenant.content()
    await assert_refused(
        await publish(tenant, content["id"], [target(tenant.tiktok)] * 51), session, "body.targets"
    )


async def test_mode_must_be_publish_draft_or_managed(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, "direct_publish")])
    await assert_refused(response, session, "body.targets.0.mode")


@pytest.mark.parametrize("field", ["captionOverride", "firstCommentOverride"])
async def test_overrides_are_at_most_4000_characters(client, tenant, session, field):
    content = await tenant.content()
    assert (
        await publish(tenant, content["id"], [target(tenant.tiktok, **{field: "x" * 4000})])
    ).status_code == 200
    response = await publish(tenant, content["id"], [target(tenant.tiktok, **{field: "x" * 4001})])
    assert response.status_code == 422 and error_of(response)["code"] == "VALIDATION"
    assert f"body.targets.0.{field}" == error_of(response)["details"]["errors"][0]["path"]
    assert await count_posts(session) == 1


async def test_privacy_level_is_an_enum(client, tenant, session):
    content = await tenant.content()
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok, tiktokPostSettings={"privacyLevel": "FRIENDS"})]
    )
    await assert_refused(response, session, "body.targets.0.tiktokPostSettings.privacyLevel")


async def test_tiktok_post_settings_are_booleans_and_nothing_else(client, tenant, session):
    content = await tenant.content()
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok, tiktokPostSettings={"disableDuet": "maybe"})]
    )
    await assert_refused(response, session, "body.targets.0.tiktokPostSettings.disableDuet")
    response = await publish(tenant, content["id"], [target(tenant.tiktok, tiktokPostSettings={"volume": 3})])
    await assert_refused(response, session, "body.targets.0.tiktokPostSettings.volume")


async def test_tiktok_music_mode_is_an_enum(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, tiktokMusic={"mode": "loud"})])
    await assert_refused(response, session, "body.targets.0.tiktokMusic.mode")


async def test_manual_music_needs_a_track_id(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, tiktokMusic={"mode": "manual"})])
    await assert_refused(response, session, "body.targets.0.tiktokMusic")


async def test_tiktok_music_is_refused_on_a_draft_target(client, tenant, session):
    content = await tenant.content()
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok, "draft", tiktokMusic={"mode": "none"})]
    )
    await assert_refused(response, session, "body.targets.0.tiktokMusic", reason="draft_target")


@pytest.mark.parametrize("mode", ["draft", "managed"])
async def test_share_reel_to_feed_is_refused_outside_publish_mode(client, tenant, session, mode):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.instagram, mode, shareReelToFeed=True)])
    await assert_refused(
        response, session, "body.targets.0.shareReelToFeed", reason="non_publish_mode", mode=mode
    )


async def test_a_partner_id_must_look_like_sp_uuid(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, scheduledPostId="sp_123")])
    await assert_refused(response, session, "body.targets.0.scheduledPostId")


async def test_a_partner_id_may_not_repeat_inside_the_batch(client, tenant, session):
    content = await tenant.content()
    chosen = sp_id()
    response = await publish(
        tenant,
        content["id"],
        [target(tenant.tiktok, scheduledPostId=chosen), target(tenant.instagram, scheduledPostId=chosen)],
    )
    await assert_refused(response, session, "body.targets.1.scheduledPostId", scheduledPostId=chosen)


async def test_unknown_fields_are_refused(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, placement="feed")])
    await assert_refused(response, session, "body.targets.0.placement")


async def test_publish_takes_no_scheduled_for(client, tenant, session):
    content = await tenant.content()
    response = await client.post(
        f"/v1/content/{content['id']}/publish",
        headers=tenant.headers,
        json={"targets": [target(tenant.tiktok)], "scheduledFor": later()},
    )
    await assert_refused(response, session, "body.scheduledFor")


async def test_schedule_needs_scheduled_for(client, tenant, session):
    content = await tenant.content()
    response = await client.post(
        f"/v1/content/{content['id']}/schedule",
        headers=tenant.headers,
        json={"targets": [target(tenant.tiktok)]},
    )
    await assert_refused(response, session, "body.scheduledFor")


async def test_scheduled_for_must_carry_a_timezone(client, tenant, session):
    content = await tenant.content()
    naive = (datetime.now() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    await assert_refused(
        await schedule(tenant, content["id"], [target(tenant.tiktok)], naive), session, "body.scheduledFor"
    )


async def test_scheduled_for_must_be_in_the_future(client, tenant, session):
    content = await tenant.content()
    past = later(minutes=-1)
    await assert_refused(
        await schedule(tenant, content["id"], [target(tenant.tiktok)], past), session, "body.scheduledFor"
    )
