"""One call fanning out to every platform and mode lands each target once; history finds what was sent."""

from __future__ import annotations

from tests.e2e.support import target


async def test_a_batch_across_both_platforms_lands_each_target_once(partner, sandbox, managed):
    content = await partner.content("video", caption="one video, everywhere")
    plan = [  # (account, mode, captionOverride, expected status)
        (partner.tiktok, "publish", "batch tiktok publish", "published"),
        (partner.tiktok, "draft", "batch tiktok draft", "draft"),
        (partner.instagram, "publish", "batch instagram publish", "published"),
        (partner.instagram, "draft", "batch instagram draft", "draft"),
        (managed.tiktok, "managed", "batch managed tiktok", "published"),
        (managed.instagram, "managed", "batch managed instagram", "published"),
    ]
    post_ids = await partner.publish(
        content, *(target(account, mode, captionOverride=caption) for account, mode, caption, _ in plan)
    )

    for post_id, (account, mode, caption, status) in zip(post_ids, plan, strict=True):
        post = await partner.settled(post_id)
        assert (post["socialAccountId"], post["mode"]) == (account["id"], mode)
        assert post["captionOverride"] == caption
        assert post["status"] == status and post["lastError"] is None, post

    seen = await sandbox.records()
    assert seen["duplicates"] == []
    created = seen["createdPerCaption"]
    video_url = content["media"][0]["url"]  # an inbox video carries no caption: counted by its URL
    assert created["tiktok"] == {"batch tiktok publish": 1, video_url: 1}
    assert created["instagram"] == {"batch instagram publish": 1}
    assert created["managed"] == {"batch managed tiktok": 1, "batch managed instagram": 1}
    [(sms_body, sent)] = created["twilio"].items()
    assert sent == 1 and sms_body.endswith("batch instagram draft")
    assert sorted(d["idempotencyKey"] for d in seen["managed"]["dispatches"]) == sorted(post_ids[4:])


async def test_history_search_finds_delivered_posts_by_the_caption_actually_sent(partner, sandbox):
    content = await partner.content("image", caption="plain container words")
    overridden, plain, drafted = await partner.publish(
        content,
        target(partner.instagram, "publish", captionOverride="aurora borealis tonight"),
        target(partner.tiktok, "publish"),
        target(partner.tiktok, "draft", captionOverride="aurora photo for the inbox"),
    )
    statuses = [(await partner.settled(post_id))["status"] for post_id in (overridden, plain, drafted)]
    assert statuses == ["published", "published", "draft"]

    assert [post["id"] for post in await partner.history(q="borealis")] == [overridden]
    assert {post["id"] for post in await partner.history(q="aurora")} == {overridden, drafted}
    # The override replaced the container's caption: only the post sent without one matches it.
    assert [post["id"] for post in await partner.history(q="container")] == [plain]
    assert [post["id"] for post in await partner.history(q="aurora", status="published")] == [overridden]
    assert [post["id"] for post in await partner.history(q="aurora", platform="tiktok")] == [drafted]
    assert await partner.history(q="nowhere") == []
