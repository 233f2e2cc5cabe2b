"""CONTRACT §5: reject flips pending to rejected and discards the stash."""

from __future__ import annotations

from tests.publishing.helpers import assert_error, publish, schedule, sql, target


async def reject(tenant, container_id: str, body=None):
    return await tenant.client.post(f"/v1/content/{container_id}/reject", json=body, headers=tenant.headers)


async def test_reject_flips_pending_to_rejected(client, admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    response = await reject(tenant, content["id"], {"reason": "Off brand."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approvalStatus"] == "rejected" and body["rejectionReason"] == "Off brand."
    assert body["rejectedBy"] == tenant.key["id"] and body["rejectedAt"].endswith("Z")
    assert body["canceledScheduledPostIds"] == []


async def test_reject_discards_the_stash_and_its_ids_read_canceled(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    stashed = (
        await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
    ).json()
    response = await reject(tenant, content["id"])
    assert response.json()["canceledScheduledPostIds"] == stashed["scheduledPostIds"]
    rows = await sql(session, "SELECT status, due_at, canceled_at, last_error FROM scheduled_posts")
    assert all(r.status == "canceled" and r.due_at is None and r.canceled_at for r in rows) and len(rows) == 2
    assert {r.last_error["code"] for r in rows} == {"CONTENT_REJECTED"}
    for post_id in stashed["scheduledPostIds"]:
        read = (await client.get(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)).json()
        assert read["status"] == "canceled"


async def test_a_rejected_container_can_no_longer_publish(client, tenant):
    content = await tenant.content()
    await reject(tenant, content["id"])
    assert_error(
        await publish(tenant, content["id"], [target(tenant.tiktok)]),
        409,
        "CONTENT_REJECTED",
        approvalStatus="rejected",
    )


async def test_rejecting_twice_or_after_approval_is_a_conflict(client, tenant):
    content = await tenant.content()
    await reject(tenant, content["id"])
    assert_error(await reject(tenant, content["id"]), 409, "CONFLICT", approvalStatus="rejected")
    approved = await tenant.content()
    await client.post(f"/v1/content/{approved['id']}/approve", headers=tenant.headers)
    assert_error(await reject(tenant, approved["id"]), 409, "CONFLICT", approvalStatus="approved")


async def test_rejecting_a_container_not_completed_fails_validation(client, tenant):
    content = await tenant.content(status="generating")
    assert_error(await reject(tenant, content["id"]), 422, "VALIDATION_FAILED", status="generating")


async def test_the_reason_is_at_most_1024_characters(client, tenant):
    content = await tenant.content()
    assert_error(await reject(tenant, content["id"], {"reason": "x" * 1025}), 422, "VALIDATION")


async def test_rejecting_needs_content_approve_and_the_organization(client, admin, tenant):
    writer = await admin.tenant(scopes=["content:write"])
    content = await writer.content()
    assert_error(await reject(writer, content["id"]), 403, "FORBIDDEN_SCOPE", requiredScope="content:approve")
    assert_error(await reject(tenant, content["id"]), 404, "NOT_FOUND")
