"""CONTRACT §5: the approval gate, and what /schedule and /publish do when it is closed."""

from __future__ import annotations

from tests.publishing.helpers import assert_error, count_posts, publish, schedule, sql, target


async def approve(tenant, container_id: str, **body):
    return await tenant.client.post(
        f"/v1/content/{container_id}/approve", json=body or None, headers=tenant.headers
    )


async def test_without_a_policy_the_gate_is_open(client, tenant):
    content = await tenant.content()
    response = await schedule(tenant, content["id"], [target(tenant.tiktok)])
    assert response.json()["gateStatus"] == "queued"


async def test_schedule_on_a_gated_container_stashes_the_targets(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    response = await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["gateStatus"] == "blocked_on_approval" and len(body["scheduledPostIds"]) == 2
    rows = await sql(session, "SELECT id, status, due_at FROM scheduled_posts ORDER BY batch_position")
    assert [row.id for row in rows] == body["scheduledPostIds"]
    assert all(row.status == "blocked_on_approval" and row.due_at is None for row in rows)
    read = (await client.get(f"/v1/scheduled-posts/{rows[0].id}", headers=tenant.headers)).json()
    assert read["status"] == "blocked_on_approval"
    pending = (await client.get(f"/v1/content/{content['id']}", headers=tenant.headers)).json()[
        "pendingSchedule"
    ]
    assert [t["scheduledPostId"] for t in pending["targets"]] == body["scheduledPostIds"]


async def test_publish_on_a_gated_container_is_refused_without_a_stash(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    assert_error(await publish(tenant, content["id"], [target(tenant.tiktok)]), 403, "APPROVAL_REQUIRED")
    assert await count_posts(session) == 0


async def test_an_approved_container_passes_the_gate(client, admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    assert (await approve(tenant, content["id"])).status_code == 200
    assert (await publish(tenant, content["id"], [target(tenant.tiktok)])).status_code == 200
    assert (await schedule(tenant, content["id"], [target(tenant.tiktok)])).json()["gateStatus"] == "queued"


async def test_with_no_first_n_every_container_needs_approval(client, admin):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=None)
    for _ in range(3):
        assert (await approve(tenant, (await tenant.content())["id"])).status_code == 200
    assert_error(
        await publish(tenant, (await tenant.content())["id"], [target(tenant.tiktok)]),
        403,
        "APPROVAL_REQUIRED",
    )


async def test_after_first_n_approvals_the_gate_stays_open(client, admin):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=2)
    for _ in range(2):
        fresh = await tenant.content()
        assert_error(await publish(tenant, fresh["id"], [target(tenant.tiktok)]), 403, "APPROVAL_REQUIRED")
        assert (await approve(tenant, fresh["id"])).status_code == 200
    unreviewed = await tenant.content()
    assert (await publish(tenant, unreviewed["id"], [target(tenant.tiktok)])).status_code == 200
    assert (await schedule(tenant, unreviewed["id"], [target(tenant.tiktok)])).json()[
        "gateStatus"
    ] == "queued"


async def test_first_n_of_zero_never_gates(client, admin):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=0)
    content = await tenant.content()
    assert (await publish(tenant, content["id"], [target(tenant.tiktok)])).status_code == 200
