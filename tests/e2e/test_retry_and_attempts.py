"""A failed post retried under the same id goes out once; every attempt is listed with its step and error."""

from __future__ import annotations

from tests.e2e.support import assert_failed, assert_published, target


async def attempts(partner, post_id: str) -> list[dict]:
    response = await partner.client.get(
        f"/v1/scheduled-posts/{post_id}/attempts", headers=partner.tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_post_tiktok_failed_is_retried_under_the_same_id_and_both_attempts_are_listed(
    partner, sandbox
):
    await sandbox.faults(tiktokFail={"reason": "internal", "times": 1})
    content = await partner.content("video", caption="second time lucky")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))
    assert_failed(await partner.settled(post_id), code="TIKTOK_INTERNAL", platform="tiktok")

    response = await partner.client.post(
        f"/v1/scheduled-posts/{post_id}/retry", headers=partner.tenant.headers
    )
    assert response.status_code == 200, response.text
    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [created] = seen["tiktok"]["posts"]
    assert_published(
        post,
        external_id=str(created["post_id"]),
        external_url=f"https://www.tiktok.com/@creator/video/{created['post_id']}",
    )
    first, second = await attempts(partner, post_id)
    assert (first["number"], first["outcome"], first["step"]) == (1, "failed", "tiktok.init_accepted")
    assert first["error"]["code"] == "TIKTOK_INTERNAL" and first["endedAt"] >= first["startedAt"]
    assert (second["number"], second["outcome"], second["error"]) == (2, "published", None)
    assert second["startedAt"] >= first["endedAt"]


async def test_a_retryable_failure_ends_one_attempt_and_the_next_one_publishes(partner, sandbox):
    await sandbox.faults(
        calls=[{"endpoint": "tiktok.creator_info", "status": 429, "error": "rate_limit_exceeded"}]
    )
    content = await partner.content("video", caption="paced by a 429")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))

    assert (await partner.settled(post_id))["status"] == "published"

    first, second = await attempts(partner, post_id)
    assert (first["outcome"], first["step"], first["error"]["code"]) == (
        "retrying",
        "not_started",
        "TIKTOK_RATE_LIMIT_EXCEEDED",
    )
    assert (second["outcome"], second["step"], second["endedAt"] is not None) == (
        "published",
        "tiktok.init_accepted",
        True,
    )


async def test_a_post_whose_outcome_is_unknown_cannot_be_retried(partner, sandbox):
    await sandbox.faults(calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    content = await partner.content("video", caption="maybe posted")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))
    assert_failed(await partner.settled(post_id), code="OUTCOME_UNKNOWN", platform="tiktok")

    response = await partner.client.post(
        f"/v1/scheduled-posts/{post_id}/retry", headers=partner.tenant.headers
    )

    assert response.status_code == 409 and response.json()["error"]["details"]["reason"] == "outcome_unknown"
    assert len((await sandbox.records())["tiktok"]["posts"]) == 1
