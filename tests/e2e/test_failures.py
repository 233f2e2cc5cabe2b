"""Hard failures end `failed` with {code, message, platform} and no retry; transient ones are retried and
post once; after the platform confirmed, only cosmetic parts may fail."""

from __future__ import annotations

import pytest

from crier.sandbox.instagram import PERSONAL_MESSAGE
from tests.e2e.support import assert_failed, assert_published, created_only, target


async def test_an_instagram_personal_account_fails_with_the_graph_apis_message(partner, sandbox, admin):
    personal = await admin.instagram_account(
        partner.tenant.project["id"],
        instagramAccountType="personal",
        handle="just_me",
        externalAccountId="17841400000000999",
    )
    # The sandbox's Graph refuses this user as a personal account, as the real one does.
    await sandbox.faults(instagramPersonal=[personal["externalAccountId"]])
    content = await partner.content("image", caption="from a personal account")
    [post_id] = await partner.publish(content, target(personal, "publish"))

    post = await partner.settled(post_id)

    assert_failed(post, code="GRAPH_10", platform="instagram", message=PERSONAL_MESSAGE)
    assert post["externalId"] is None
    seen = await sandbox.records()
    assert seen["instagram"]["media"] == [] and seen["calls"]["instagram.media_create"] == 1  # no retry


async def test_an_instagram_draft_without_a_verified_operator_phone_fails_without_texting(
    unverified_phone_partner, sandbox
):
    partner = unverified_phone_partner
    content = await partner.content("image", caption="nobody to text")
    [post_id] = await partner.publish(content, target(partner.instagram, "draft"))

    post = await partner.settled(post_id)

    assert_failed(post, code="NO_VERIFIED_OPERATOR_PHONE", platform="instagram")
    assert sandbox.tap.heard == [] and (await sandbox.records())["twilio"]["messages"] == []


@pytest.mark.parametrize(
    "settings, creator",
    [
        pytest.param({"privacyLevel": "FOLLOWER_OF_CREATOR"}, "public", id="level-a-public-creator-lacks"),
        pytest.param({}, "private", id="default-public-on-a-private-creator"),
    ],
)
async def test_a_privacy_level_the_creator_cannot_use_fails_before_init(partner, sandbox, settings, creator):
    if creator == "private":
        await sandbox.faults(tiktokPrivate=True)
    content = await partner.content("video", caption="not for everyone")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish", tiktokPostSettings=settings))

    post = await partner.settled(post_id)

    assert_failed(post, code="TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH", platform="tiktok")
    requested = settings.get("privacyLevel", "PUBLIC_TO_EVERYONE")
    assert requested in post["lastError"]["message"]
    assert (await sandbox.records())["calls"] == {"tiktok.creator_info": 1}  # init never called


@pytest.mark.parametrize(
    "platform, mode, endpoint, fault",
    [
        ("tiktok", "publish", "tiktok.video_init", {"status": 429, "error": "rate_limit_exceeded"}),
        (
            "instagram",
            "publish",
            "instagram.media_create",
            {"status": 400, "error": 4, "message": "(#4) Application request limit reached"},
        ),
        ("instagram", "draft", "twilio.messages", {"status": 429, "error": 20429}),
        ("managed", "managed", "managed.dispatch_create", {"status": 429}),
    ],
    ids=["tiktok-init", "instagram-container", "twilio-sms", "managed-dispatch"],
)
async def test_a_rate_limit_is_retried_and_the_post_goes_out_once(
    partner, sandbox, managed, platform, mode, endpoint, fault
):
    await sandbox.faults(calls=[{"endpoint": endpoint, "times": 1, **fault}])
    account = managed.tiktok if platform == "managed" else getattr(partner, platform)
    content = await partner.content("video", caption=f"{platform} {mode} after a 429")
    [post_id] = await partner.publish(content, target(account, mode))

    post = await partner.settled(post_id)

    assert post["status"] == ("draft" if mode == "draft" else "published"), post
    assert post["lastError"] is None and post["externalId"]
    seen = await sandbox.records()
    assert seen["calls"][endpoint] == 2  # refused once, then accepted
    assert seen["duplicates"] == []
    assert sum(sum(counts.values()) for counts in seen["createdPerCaption"].values()) == 1


async def test_a_failed_permalink_read_leaves_the_post_published_with_a_null_url(partner, sandbox):
    await sandbox.faults(permalinkFails={"times": 1})  # Graph's 100/33 on a fresh media id
    content = await partner.content("image", caption="live but unlinked", firstComment="still commented")
    [post_id] = await partner.publish(content, target(partner.instagram, "publish"))

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [media] = seen["instagram"]["media"]
    assert_published(post, external_id=media["id"], external_url=None)
    assert seen["createdPerCaption"] == created_only("instagram", "live but unlinked")
    assert [comment["message"] for comment in seen["instagram"]["comments"]] == ["still commented"]


@pytest.mark.parametrize("media_type", ["video", "multi"])
async def test_a_tiktok_failed_status_fails_the_post_with_its_fail_reason(partner, sandbox, media_type):
    await sandbox.faults(tiktokFail={"reason": "duration_check_failed", "times": 1})
    content = await partner.content(media_type, caption="too long a video")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))

    post = await partner.settled(post_id)

    assert_failed(post, code="TIKTOK_DURATION_CHECK_FAILED", platform="tiktok")
    assert "duration_check_failed" in post["lastError"]["message"]
    seen = await sandbox.records()
    assert len(seen["tiktok"]["publishes"]) == 1 and seen["tiktok"]["posts"] == []  # no second init


async def test_a_managed_dispatch_the_provider_fails_ends_failed_with_its_error(partner, sandbox, managed):
    await sandbox.faults(
        managedFail={"code": "account_suspended", "message": "The account is suspended.", "times": 1}
    )
    content = await partner.content("video", caption="the provider says no")
    [post_id] = await partner.publish(content, target(managed.instagram, "managed"))

    post = await partner.settled(post_id)

    assert_failed(post, code="account_suspended", platform="instagram", message="The account is suspended.")
    assert (await sandbox.records())["managed"]["requests"] == 1
