"""Platform limits through the real worker: paced, deferred (never failed), and out exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.support import target

WINDOW = 1.0  # TikTok's per-token window, shrunk on both sides (60 s on the real platform)


@pytest.fixture
async def tiktok_rates(sandbox, worker, monkeypatch):
    """The sandbox enforces TikTok's per-token rates; Crier paces for them and defers past a short wait."""
    await sandbox.config(tiktokRateWindowSeconds=WINDOW)
    settings = worker.ctx["settings"]
    monkeypatch.setattr(settings, "tiktok_rate_window_seconds", WINDOW)
    monkeypatch.setattr(settings, "pacing_margin_seconds", 1.0)  # the sandbox shares this event loop
    monkeypatch.setattr(settings, "pacing_inline_wait_seconds", 0.3)


async def attempts(partner, post_id: str) -> list[dict]:
    response = await partner.client.get(
        f"/v1/scheduled-posts/{post_id}/attempts", headers=partner.tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_burst_of_50_posts_to_one_tiktok_account_goes_out_paced_with_zero_429s(
    partner, sandbox, tiktok_rates
):
    content = await partner.content("video", caption="burst")
    targets = [target(partner.tiktok, "publish", captionOverride=f"burst {i}") for i in range(50)]
    post_ids = await partner.publish(content, *targets)

    posts = [await partner.settled(post_id, within=90) for post_id in post_ids]

    seen = await sandbox.records()
    assert [post["status"] for post in posts] == ["published"] * 50
    assert seen["tiktok"]["rateLimited"] == 0 and seen["calls"]["tiktok.video_init"] == 50
    assert len(seen["tiktok"]["posts"]) == 50 and seen["duplicates"] == []
    deferred = [
        post_id
        for post_id in post_ids
        if any(attempt["outcome"] == "deferred" for attempt in await attempts(partner, post_id))
    ]
    assert len(deferred) >= 50 - 6 * 2  # beyond the first window's inits, posts waited `scheduled`


async def test_a_deferred_post_reads_scheduled_with_deferred_until_and_quota_deferred(
    partner, sandbox, tiktok_rates, worker, monkeypatch
):
    monkeypatch.setattr(worker.ctx["settings"], "tiktok_rate_window_seconds", 30.0)  # the 7th waits ~30 s
    content = await partner.content("video", caption="seven")
    post_ids = await partner.publish(
        content, *[target(partner.tiktok, "publish", captionOverride=f"seven {i}") for i in range(7)]
    )
    for _ in range(200):  # until the first window's six are out
        posts = [await partner.post(post_id) for post_id in post_ids]
        if sum(post["status"] == "published" for post in posts) == 6:
            break
        await asyncio.sleep(0.05)

    [waiting] = [post for post in posts if post["status"] != "published"]
    assert waiting["status"] == "scheduled" and waiting["deferredUntil"].endswith("Z")
    assert waiting["lastError"]["code"] == "QUOTA_DEFERRED" and waiting["lastError"]["platform"] == "tiktok"
    assert (await sandbox.records())["calls"]["tiktok.video_init"] == 6


async def test_a_full_instagram_publishing_quota_defers_the_post_instead_of_failing_it(partner, sandbox):
    await sandbox.config(instagramDailyLimit=1)
    content = await partner.content("image", caption="quota")
    [first] = await partner.publish(
        content, target(partner.instagram, "publish", captionOverride="quota one")
    )
    assert (await partner.settled(first))["status"] == "published"

    [second] = await partner.publish(
        content, target(partner.instagram, "publish", captionOverride="quota two")
    )
    for _ in range(200):
        post = await partner.post(second)
        if post["status"] == "scheduled" and post["lastError"]:
            break
        await asyncio.sleep(0.05)

    assert post["status"] == "scheduled" and post["lastError"]["code"] == "QUOTA_DEFERRED"
    assert post["deferredUntil"].endswith("Z") and post["lastError"]["platform"] == "instagram"
    seen = await sandbox.records()
    assert len(seen["instagram"]["media"]) == 1 and seen["calls"]["instagram.media_publish"] == 1
    assert seen["calls"]["instagram.publishing_limit"] >= 1  # asked before publishing
