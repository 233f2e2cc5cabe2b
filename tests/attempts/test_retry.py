"""POST /v1/scheduled-posts/{id}/retry: a failed post goes again under the same id only when the
platform surely has no copy; otherwise 409 CONFLICT with details.reason, and nothing is written."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.publishing.helpers import assert_error, schedule, sql, target, write_sql


async def failed_post(tenant, session, *, code: str = "TIKTOK_SPAM_RISK_TOO_MANY_POSTS", journal=None) -> str:
    content = await tenant.content()
    response = await schedule(tenant, content["id"], [target(tenant.tiktok)])
    post_id = response.json()["scheduledPostIds"][0]
    error = {"code": code, "message": "it failed", "platform": "tiktok"}
    await write_sql(
        session,
        "UPDATE scheduled_posts SET status = 'failed', due_at = NULL, attempt = 3, "
        "retry_count = 2, attempted_at = now(), last_error = CAST(:error AS jsonb), "
        "journal = CAST(:journal AS jsonb) WHERE id = :id",
        id=post_id,
        error=json.dumps(error),
        journal=json.dumps(journal or {}),
    )
    return post_id


async def retry(client, tenant, post_id: str, **headers: str):
    return await client.post(f"/v1/scheduled-posts/{post_id}/retry", headers={**tenant.headers, **headers})


@pytest.mark.parametrize(
    "journal",
    [
        {},  # failed before any platform call (e.g. creator_info refused)
        {"tiktok_init_sent": False, "tiktok_init_sent_at": "2026-01-01T00:00:00+00:00"},  # refused init
        {
            "tiktok_init_sent": True,
            "tiktok_publish_id": "v1",
            "tiktok_failed_reason": "spam_risk",
        },  # TikTok FAILED
        {"sms_sent": False, "reconcile_result": "absent", "reconcile_recalls": 1},  # proven absent
    ],
    ids=["before-any-call", "init-refused", "tiktok-status-failed", "proven-absent"],
)
async def test_a_failed_post_the_platform_has_no_copy_of_is_requeued_under_the_same_id(
    client, tenant, session, journal
):
    post_id = await failed_post(tenant, session, journal=journal)

    response = await retry(client, tenant, post_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == post_id and body["status"] == "scheduled" and body["lastError"] is None
    [row] = await sql(
        session,
        "SELECT status, due_at, journal, retry_count, attempt, attempted_at "
        "FROM scheduled_posts WHERE id = :id",
        id=post_id,
    )
    assert (row.status, row.journal, row.retry_count, row.attempt) == ("scheduled", {}, 0, 3)
    assert row.due_at is not None and row.attempted_at is None


@pytest.mark.parametrize(
    ("code", "journal", "reason"),
    [
        ("OUTCOME_UNKNOWN", {"tiktok_init_sent": True}, "outcome_unknown"),
        ("PROCESSING_TIMEOUT", {"tiktok_init_sent": True, "tiktok_publish_id": "v1"}, "outcome_unknown"),
        ("GRAPH_HTTP_500", {"ig_publish_sent": True, "ig_container_id": "c1"}, "outcome_unknown"),
        ("MANAGED_DISPATCH_FAILED", {"managed_dispatch_id": "d1"}, "platform_accepted"),
    ],
    ids=["outcome-unknown", "processing-timeout", "marker-still-set", "provider-holds-dispatch"],
)
async def test_a_failed_post_the_platform_may_hold_is_refused_with_the_reason(
    client, tenant, session, code, journal, reason
):
    post_id = await failed_post(tenant, session, code=code, journal=journal)

    assert_error(await retry(client, tenant, post_id), 409, "CONFLICT", reason=reason)

    [row] = await sql(session, "SELECT status, journal FROM scheduled_posts WHERE id = :id", id=post_id)
    assert (row.status, row.journal) == ("failed", journal)


async def test_a_post_that_has_not_failed_is_refused_as_not_failed(client, tenant):
    content = await tenant.content()
    post_id = (await schedule(tenant, content["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"][0]

    assert_error(
        await retry(client, tenant, post_id), 409, "CONFLICT", reason="not_failed", status="scheduled"
    )


async def test_a_post_whose_account_is_disconnected_is_refused(client, tenant, session, admin):
    post_id = await failed_post(tenant, session)
    await admin.disconnect(tenant.tiktok["id"])

    assert_error(await retry(client, tenant, post_id), 409, "CONFLICT", reason="account_not_connected")


async def test_another_organizations_post_is_not_found(client, tenant, session, admin):
    other = await admin.tenant()
    post_id = await failed_post(other, session)

    assert_error(await retry(client, tenant, post_id), 404, "NOT_FOUND")
    [row] = await sql(session, "SELECT status FROM scheduled_posts WHERE id = :id", id=post_id)
    assert row.status == "failed"


async def test_retrying_needs_publish_write(client, admin, session):
    reader = await admin.tenant(scopes=["publish:read", "content:write"])
    assert_error(
        await client.post("/v1/scheduled-posts/sp_x/retry", headers=reader.headers),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="publish:write",
    )


async def test_the_same_idempotency_key_replays_the_first_answer_without_requeuing_twice(
    client, tenant, session
):
    post_id = await failed_post(tenant, session)
    key = str(uuid.uuid4())
    first = await retry(client, tenant, post_id, **{"Idempotency-Key": key})
    # the post fails again meanwhile; a replay must not put it back in the queue
    await write_sql(session, "UPDATE scheduled_posts SET status = 'failed' WHERE id = :id", id=post_id)

    again = await retry(client, tenant, post_id, **{"Idempotency-Key": key})

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    [row] = await sql(session, "SELECT status FROM scheduled_posts WHERE id = :id", id=post_id)
    assert row.status == "failed"
