"""CONTRACT §7: read one post, cancel one post (never racing a worker's claim)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from crier.core.db import get_sessionmaker
from tests.publishing.helpers import assert_error, publish, schedule, sql, target, write_sql

FIELDS = {
    "id",
    "containerId",
    "projectId",
    "socialAccountId",
    "platform",
    "mode",
    "status",
    "scheduledFor",
    "attemptedAt",
    "publishedAt",
    "canceledAt",
    "externalId",
    "externalUrl",
    "lastError",
    "createdAt",
    "updatedAt",
    "captionOverride",
    "firstCommentOverride",
    "tiktokPostSettings",
    "tiktokMusic",
    "shareReelToFeed",
    "deferredUntil",
}


async def scheduled_post(tenant, **fields) -> str:
    content = await tenant.content()
    response = await schedule(tenant, content["id"], [target(tenant.tiktok, **fields)])
    return response.json()["scheduledPostIds"][0]


async def test_a_post_reads_with_every_field_and_its_overrides(client, tenant):
    post_id = await scheduled_post(tenant, captionOverride="hi", tiktokPostSettings={"disableDuet": True})
    response = await client.get(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["projectId"] == tenant.project["id"] and body["socialAccountId"] == tenant.tiktok["id"]
    assert body["platform"] == "tiktok" and body["mode"] == "publish" and body["status"] == "scheduled"
    assert body["captionOverride"] == "hi" and body["tiktokPostSettings"] == {"disableDuet": True}
    assert all(body[name].endswith("Z") for name in ("scheduledFor", "createdAt", "updatedAt"))


async def test_posts_of_another_organization_and_malformed_ids_are_not_found(client, tenant, admin):
    other = await admin.tenant()
    foreign = await scheduled_post(other)
    for post_id in (foreign, "sp_nope", "cnt_00000000-0000-4000-8000-000000000000"):
        assert_error(
            await client.get(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers), 404, "NOT_FOUND"
        )
        assert_error(
            await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers), 404, "NOT_FOUND"
        )
    assert (await client.get(f"/v1/scheduled-posts/{foreign}", headers=other.headers)).json()[
        "status"
    ] == "scheduled"


async def test_reading_needs_publish_read(client, admin):
    tenant = await admin.tenant(scopes=["content:write"])
    assert_error(
        await client.get("/v1/scheduled-posts/sp_x", headers=tenant.headers),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="publish:read",
    )


async def test_canceling_a_scheduled_post_answers_it_canceled(client, tenant, session):
    post_id = await scheduled_post(tenant)
    response = await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled" and response.json()["canceledAt"].endswith("Z")
    [row] = await sql(session, "SELECT status, due_at, canceled_at FROM scheduled_posts")
    assert row.status == "canceled" and row.due_at is None and row.canceled_at is not None


async def test_a_stashed_post_can_be_canceled(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    post_id = await scheduled_post(tenant)
    response = await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)
    assert response.status_code == 200 and response.json()["status"] == "canceled"


async def test_a_post_past_scheduled_cannot_be_canceled(client, tenant, session):
    post_id = await scheduled_post(tenant)
    for status in ("publishing", "published", "draft", "failed", "canceled"):
        await write_sql(session, "UPDATE scheduled_posts SET status = :status", status=status)
        response = await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)
        assert_error(response, 409, "CONFLICT", status=status)
        assert (await sql(session, "SELECT status FROM scheduled_posts"))[0].status == status


async def test_canceling_needs_publish_write(client, admin, tenant):
    reader = await admin.api_key(tenant.organization["id"], ["publish:read"])
    post_id = await scheduled_post(tenant)
    response = await client.delete(f"/v1/scheduled-posts/{post_id}", headers={"X-Api-Key": reader["key"]})
    assert_error(response, 403, "FORBIDDEN_SCOPE", requiredScope="publish:write")


async def claim_like_the_worker(post_id: str, delay: float = 0.0) -> bool:
    """The worker's claim: FOR UPDATE SKIP LOCKED on a due, scheduled row, then 'publishing'."""
    await asyncio.sleep(delay)
    async with get_sessionmaker()() as worker, worker.begin():
        claimed = (
            await worker.execute(
                text(
                    "SELECT id FROM scheduled_posts WHERE id = :id AND status = 'scheduled' AND due_at <= now()"
                    " FOR UPDATE SKIP LOCKED"
                ),
                {"id": post_id},
            )
        ).first()
        if claimed is None:
            return False
        await asyncio.sleep(0.02)  # hold the lock a moment, as a real claim batch would
        await worker.execute(
            text("UPDATE scheduled_posts SET status = 'publishing' WHERE id = :id"), {"id": post_id}
        )
        return True


async def test_cancel_and_claim_race_and_exactly_one_wins(client, tenant, session):
    content = await tenant.content()
    ids = (await publish(tenant, content["id"], [target(tenant.tiktok)] * 12)).json()["scheduledPostIds"]
    outcomes = await asyncio.gather(
        *(
            asyncio.gather(
                client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers),
                claim_like_the_worker(post_id, delay=0.004 * index),
            )
            for index, post_id in enumerate(ids)  # staggered so that either side gets to win
        )
    )
    statuses = dict(await sql(session, "SELECT id, status FROM scheduled_posts"))
    for post_id, (cancel, claimed) in zip(ids, outcomes, strict=True):
        if claimed:
            assert_error(cancel, 409, "CONFLICT", status="publishing")
            assert statuses[post_id] == "publishing"
        else:
            assert cancel.status_code == 200 and cancel.json()["status"] == "canceled"
            assert statuses[post_id] == "canceled"


async def test_a_cancel_waiting_on_a_claim_answers_409(client, tenant, session):
    content = await tenant.content()
    [post_id] = (await publish(tenant, content["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"]
    async with get_sessionmaker()() as worker:
        await worker.execute(
            text("SELECT id FROM scheduled_posts WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": post_id}
        )
        cancel = asyncio.create_task(client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers))
        await asyncio.sleep(0.3)
        assert not cancel.done(), "the cancel must wait for the claim's lock"
        await worker.execute(
            text("UPDATE scheduled_posts SET status = 'publishing' WHERE id = :id"), {"id": post_id}
        )
        await worker.commit()
    assert_error(await cancel, 409, "CONFLICT", status="publishing")
