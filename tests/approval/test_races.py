"""CONTRACT §5 under concurrency: a stash is never stranded by an approval running beside it."""

from __future__ import annotations

import asyncio

from tests.publishing.helpers import count_posts, schedule, target


async def test_schedule_racing_approve_never_strands_a_stash(client, admin, session):
    """/schedule share-locks the container and approve locks it for update, so either the stash
    is committed before approval looks for it (and is promoted) or schedule sees `approved`."""
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
