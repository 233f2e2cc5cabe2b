"""POST /schedule: nothing goes out before scheduledFor; canceled while scheduled, nothing ever goes out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.e2e.support import assert_published, created_only, parse_time, target, wire_time
from tests.support.factories import error_of


async def test_a_scheduled_post_lands_only_after_its_time(partner, sandbox):
    content = await partner.content("video", caption="at the stroke of two")
    at = datetime.now(UTC) + timedelta(seconds=2)
    [post_id] = await partner.schedule(content, target(partner.tiktok, "publish"), at=at)

    while datetime.now(UTC) < at - timedelta(seconds=0.2):  # the worker sweeps every 0.1 s meanwhile
        post = await partner.post(post_id)
        assert post["status"] == "scheduled" and post["attemptedAt"] is None, post
        assert sandbox.tap.heard == []
        await asyncio.sleep(0.2)
    post = await partner.settled(post_id)

    assert post["scheduledFor"] == wire_time(at)
    [live] = (await sandbox.records())["tiktok"]["posts"]
    assert_published(
        post,
        external_id=str(live["post_id"]),
        external_url=f"https://www.tiktok.com/@creator/video/{live['post_id']}",
    )
    assert parse_time(post["attemptedAt"]) >= parse_time(post["scheduledFor"])
    assert (await sandbox.records())["createdPerCaption"] == created_only("tiktok", "at the stroke of two")


async def test_a_post_canceled_before_it_is_due_is_canceled_and_never_sent(partner, sandbox):
    content = await partner.content("image", caption="never mind")
    at = datetime.now(UTC) + timedelta(seconds=1)
    tiktok_id, instagram_id = await partner.schedule(
        content, target(partner.tiktok, "publish"), target(partner.instagram, "draft"), at=at
    )

    for post_id in (tiktok_id, instagram_id):
        response = await partner.cancel(post_id)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "canceled" and response.json()["canceledAt"], response.json()
    await asyncio.sleep((at - datetime.now(UTC)).total_seconds() + 1.0)  # well past due, ten sweeps later

    for post_id in (tiktok_id, instagram_id):
        post = await partner.post(post_id)
        assert post["status"] == "canceled", post
        assert post["attemptedAt"] is None and post["publishedAt"] is None and post["externalId"] is None
    seen = await sandbox.records()
    assert sandbox.tap.heard == [] and seen["calls"] == {}
    assert all(counts == {} for counts in seen["createdPerCaption"].values())


async def test_a_delivered_post_can_no_longer_be_canceled(partner, sandbox):
    content = await partner.content("image", caption="too late")
    [post_id] = await partner.publish(content, target(partner.instagram, "publish"))
    assert (await partner.settled(post_id))["status"] == "published"

    error = error_of(await partner.cancel(post_id), 409, "CONFLICT")

    assert error["details"]["status"] == "published"
    assert (await partner.post(post_id))["status"] == "published"
