"""CONTRACT §5 under concurrency: a stash is never stranded by an approval running beside it."""

from __future__ import annotations

import asyncio

from tests.publishing.helpers import count_posts, schedule, target


async def test_schedule_racing_approve_never_strands_a_stash(client, admin, session):
    """/schedule's INSERT share-locks the container and approve locks it for update, so either the
    stash is committed before approval looks for it (and is promoted) or schedule sees `approved`."""
    tenant = await admin.tenant(requiresApproval=True)
    contents = [await tenant.content() for _ in range(8)]

    async def race(content_id: str):
        return await asyncio.gather(
            schedule(tenant, content_id, [target(tenant.tiktok)]),
            tenant.client.post(f"/v1/content/{content_id}/approve", headers=tenant.headers),
        )

    outcomes = await asyncio.gather(*(race(content["id"]) for content in contents))
    for scheduled, approved in outcomes:
        assert scheduled.status_code == approved.status_code == 200
        promotion = approved.json().get("pendingSchedulePromotion")
        if scheduled.json()["gateStatus"] == "blocked_on_approval":
            assert promotion == {"status": "ok", "scheduledPostIds": scheduled.json()["scheduledPostIds"]}
        else:
            assert promotion is None
    assert await count_posts(session, "status = 'blocked_on_approval'") == 0
    assert await count_posts(session, "status = 'scheduled'") == 8


async def test_an_approval_between_reading_the_container_and_writing_the_batch_is_seen(
    client, admin, session, monkeypatch
):
    """The batch's INSERT compares the container with what the checks read: a stash decided on a
    `pending` container that was approved meanwhile is written nowhere, and decided again, live."""
    from crier.publishing import repository

    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    real_read = repository.read_container
    reads = []

    async def read_then_approve(connection, **kwargs):
        container = await real_read(connection, **kwargs)
        reads.append(container.approval_status)
        if len(reads) == 1:  # the approval lands right after the first read
            approved = await tenant.client.post(
                f"/v1/content/{content['id']}/approve", headers=tenant.headers
            )
            assert approved.status_code == 200 and approved.json().get("pendingSchedulePromotion") is None
        return container

    monkeypatch.setattr(repository, "read_container", read_then_approve)
    scheduled = await schedule(tenant, content["id"], [target(tenant.tiktok)])

    assert scheduled.status_code == 200, scheduled.text
    assert reads == ["pending", "approved"]
    assert scheduled.json()["gateStatus"] == "queued"
    assert await count_posts(session, "status = 'blocked_on_approval'") == 0
    assert await count_posts(session, "status = 'scheduled'") == 1
