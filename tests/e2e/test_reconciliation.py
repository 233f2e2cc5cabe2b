"""Lost answers through the real worker: reconciled from the sandbox's records, never double-posted."""

from __future__ import annotations

from tests.e2e.support import assert_draft, assert_failed, assert_published, target


async def with_video_list(admin, partner) -> dict:
    return await admin.tiktok_account(
        partner.tenant.project["id"],
        handle="creator",
        externalAccountId="tt-open-id-list",
        grantedScopes=["video.publish", "video.upload", "video.list"],
    )


async def test_a_tiktok_init_that_acted_but_lost_its_answer_ends_published_with_the_found_id(
    partner, sandbox, admin
):
    account = await with_video_list(admin, partner)
    await sandbox.faults(calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    content = await partner.content("video", caption="acted, answer lost")
    [post_id] = await partner.publish(content, target(account, "publish"))

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [created] = seen["tiktok"]["posts"]
    assert_published(
        post,
        external_id=str(created["post_id"]),
        external_url=f"https://www.tiktok.com/@creator/video/{created['post_id']}",
    )
    assert seen["calls"]["tiktok.video_init"] == 1 and seen["duplicates"] == []


async def test_a_tiktok_init_that_never_acted_is_proven_absent_and_posted_exactly_once(
    partner, sandbox, admin
):
    account = await with_video_list(admin, partner)
    await sandbox.faults(calls=[{"endpoint": "tiktok.video_init", "status": 500}])
    content = await partner.content("video", caption="never arrived")
    [post_id] = await partner.publish(content, target(account, "publish"))

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [created] = seen["tiktok"]["posts"]
    assert_published(
        post,
        external_id=str(created["post_id"]),
        external_url=f"https://www.tiktok.com/@creator/video/{created['post_id']}",
    )
    assert seen["calls"]["tiktok.video_init"] == 2 and seen["duplicates"] == []


async def test_a_lost_init_the_account_cannot_list_still_ends_outcome_unknown(partner, sandbox):
    await sandbox.faults(calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    content = await partner.content("video", caption="no video.list scope")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))

    post = await partner.settled(post_id)

    assert_failed(post, code="OUTCOME_UNKNOWN", platform="tiktok")
    assert "video.list" in post["lastError"]["message"]
    assert (await sandbox.records())["calls"]["tiktok.video_init"] == 1


async def test_an_instagram_draft_text_whose_answer_was_lost_is_found_by_lookup(partner, sandbox):
    await sandbox.faults(calls=[{"endpoint": "twilio.messages", "status": 500, "apply": True}])
    content = await partner.content("image", caption="texted, answer lost")
    [post_id] = await partner.publish(content, target(partner.instagram, "draft"))

    post = await partner.settled(post_id)

    [message] = (await sandbox.records())["twilio"]["messages"]
    assert_draft(post, external_id=message["sid"])
