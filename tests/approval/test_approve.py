"""CONTRACT §5 and seeds/layers-approve-content.md: approve flips, counts, and promotes the stash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.publishing.helpers import assert_error, count_posts, later, schedule, sql, target, write_sql
from tests.support.wakeups import forget_wake_up, wake_up_queued


async def approve(tenant, container_id: str, body=None, headers=None):
    return await tenant.client.post(
        f"/v1/content/{container_id}/approve", json=body, headers={**tenant.headers, **(headers or {})}
    )


async def gated_tenant(admin, **policy):
    return await admin.tenant(requiresApproval=True, **policy)


async def test_approve_flips_pending_to_approved_and_stamps_the_key(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    response = await approve(tenant, content["id"], {"note": "Looks good."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approvalStatus"] == "approved" and body["approvedBy"] == tenant.key["id"]
    assert body["approvedBy"].startswith("key_") and body["approvedAt"].endswith("Z")
    assert body["approvalNote"] == "Looks good." and "pendingSchedulePromotion" not in body
    read = (await client.get(f"/v1/content/{content['id']}", headers=tenant.headers)).json()
    assert read["approvalStatus"] == "approved" and read["approvalNote"] == "Looks good."


async def test_the_body_is_optional(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    response = await client.post(f"/v1/content/{content['id']}/approve", headers=tenant.headers)
    assert response.status_code == 200, response.text


async def test_the_note_is_at_most_1024_characters(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    assert_error(await approve(tenant, content["id"], {"note": "x" * 1025}), 422, "VALIDATION")
    assert (await approve(tenant, content["id"], {"note": "x" * 1024})).status_code == 200


async def test_approving_twice_is_a_conflict_naming_the_status(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    await approve(tenant, content["id"])
    assert_error(await approve(tenant, content["id"]), 409, "CONFLICT", approvalStatus="approved")


async def test_approving_a_rejected_container_is_a_conflict(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    await client.post(f"/v1/content/{content['id']}/reject", headers=tenant.headers)
    assert_error(await approve(tenant, content["id"]), 409, "CONFLICT", approvalStatus="rejected")


async def test_a_container_not_completed_fails_validation(client, admin):
    tenant = await gated_tenant(admin)
    content = await tenant.content(status="generating")
    assert_error(await approve(tenant, content["id"]), 422, "VALIDATION_FAILED", status="generating")


async def test_a_container_of_another_organization_is_not_found(client, admin):
    tenant, other = await gated_tenant(admin), await admin.tenant()
    foreign = await other.content()
    assert_error(await approve(tenant, foreign["id"]), 404, "NOT_FOUND")
    assert_error(await approve(tenant, "cnt_malformed"), 404, "NOT_FOUND")


async def test_approving_needs_the_content_approve_scope(client, admin):
    tenant = await admin.tenant(scopes=["content:write", "publish:write"])
    content = await tenant.content()
    assert_error(
        await approve(tenant, content["id"]), 403, "FORBIDDEN_SCOPE", requiredScope="content:approve"
    )


async def test_approval_promotes_the_stash_under_the_same_ids(client, admin, session):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    when = later(hours=5)
    stashed = (
        await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)], when)
    ).json()
    response = await approve(tenant, content["id"])
    assert response.json()["pendingSchedulePromotion"] == {
        "status": "ok",
        "scheduledPostIds": stashed["scheduledPostIds"],
    }
    rows = await sql(
        session, "SELECT id, status, due_at, scheduled_for FROM scheduled_posts ORDER BY batch_position"
    )
    assert [row.id for row in rows] == stashed["scheduledPostIds"]
    assert all(
        r.status == "scheduled" and r.due_at == r.scheduled_for == datetime.fromisoformat(when) for r in rows
    )
    assert await count_posts(session) == 2


async def test_a_stash_whose_time_has_passed_publishes_at_once(client, admin, session):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    await schedule(tenant, content["id"], [target(tenant.tiktok)], later(minutes=1))
    await write_sql(session, "UPDATE scheduled_posts SET scheduled_for = now() - interval '1 hour'")
    before = datetime.now(UTC)
    await forget_wake_up()
    assert (await approve(tenant, content["id"])).json()["pendingSchedulePromotion"]["status"] == "ok"
    [row] = await sql(session, "SELECT status, due_at, scheduled_for FROM scheduled_posts")
    assert row.status == "scheduled" and row.due_at > row.scheduled_for
    assert abs((row.due_at - before).total_seconds()) < 5
    assert await wake_up_queued()


async def test_promotion_fails_whole_when_an_account_was_disconnected(client, admin, session):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    stashed = (
        await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
    ).json()
    await admin.disconnect(tenant.instagram["id"])
    response = await approve(tenant, content["id"])
    assert response.status_code == 200 and response.json()["approvalStatus"] == "approved"
    promotion = response.json()["pendingSchedulePromotion"]
    assert promotion["status"] == "failed" and "scheduledPostIds" not in promotion
    assert promotion["details"] == {
        "reason": "social_account_disconnected",
        "socialAccountId": tenant.instagram["id"],
        "mode": "publish",
        "scheduledPostId": stashed["scheduledPostIds"][1],
        "canceledScheduledPostIds": stashed["scheduledPostIds"],
    }
    rows = await sql(session, "SELECT status, due_at, canceled_at, last_error FROM scheduled_posts")
    assert all(r.status == "canceled" and r.due_at is None and r.canceled_at is not None for r in rows)
    assert {r.last_error["code"] for r in rows} == {"PENDING_SCHEDULE_NOT_PROMOTED"}
    read = (
        await client.get(f"/v1/scheduled-posts/{stashed['scheduledPostIds'][0]}", headers=tenant.headers)
    ).json()
    assert read["status"] == "canceled" and tenant.instagram["id"] in read["lastError"]["message"]


async def test_concurrent_approvals_never_push_the_counter_past_first_n(client, admin, session):
    tenant = await gated_tenant(admin, firstNPostsBlocked=3)
    contents = [await tenant.content() for _ in range(8)]
    responses = await asyncio.gather(*(approve(tenant, content["id"]) for content in contents))
    assert [r.status_code for r in responses] == [200] * 8
    [row] = await sql(session, "SELECT current_blocked_count FROM projects")
    assert row.current_blocked_count == 3


async def test_concurrent_approvals_of_one_container_flip_it_once(client, admin, session):
    tenant = await gated_tenant(admin, firstNPostsBlocked=5)
    content = await tenant.content()
    responses = await asyncio.gather(*(approve(tenant, content["id"]) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    [row] = await sql(session, "SELECT current_blocked_count FROM projects")
    assert row.current_blocked_count == 1


async def test_promotion_fails_when_an_account_is_no_longer_ready_for_its_mode(client, admin, session):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    stashed = (await schedule(tenant, content["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"]
    await write_sql(
        session,
        "UPDATE social_accounts SET granted_scopes = '{video.upload}' WHERE id = :id",
        id=tenant.tiktok["id"],
    )
    promotion = (await approve(tenant, content["id"])).json()["pendingSchedulePromotion"]
    assert promotion["status"] == "failed" and promotion["details"]["reason"] == "social_account_not_ready"
    assert promotion["details"]["canceledScheduledPostIds"] == stashed
    assert await count_posts(session, "status = 'canceled'") == 1


async def test_a_stashed_target_canceled_before_approval_stays_canceled(client, admin, session):
    tenant = await gated_tenant(admin)
    content = await tenant.content()
    kept, dropped = (
        await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
    ).json()["scheduledPostIds"]
    assert (await client.delete(f"/v1/scheduled-posts/{dropped}", headers=tenant.headers)).status_code == 200
    promotion = (await approve(tenant, content["id"])).json()["pendingSchedulePromotion"]
    assert promotion == {"status": "ok", "scheduledPostIds": [kept]}
    statuses = dict(await sql(session, "SELECT id, status FROM scheduled_posts"))
    assert statuses == {kept: "scheduled", dropped: "canceled"}
