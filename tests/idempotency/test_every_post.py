"""CONTRACT §3 on every POST of /v1, and under 20 concurrent requests carrying one key."""

from __future__ import annotations

import asyncio
import uuid

from tests.publishing.helpers import count_posts, error_of, later, publish, schedule, sql, target


async def test_twenty_concurrent_requests_with_one_key_write_one_batch(client, tenant, session):
    content = await tenant.content()
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    targets = [target(tenant.tiktok), target(tenant.instagram), target(tenant.tiktok, "draft")]

    async def until_answered():
        """Send, and follow Retry-After while the first request is still in flight."""
        in_flight_seen = 0
        while True:
            response = await publish(tenant, content["id"], targets, **headers)
            if response.status_code != 409:
                return response, in_flight_seen
            assert error_of(response)["code"] == "IDEMPOTENCY_IN_FLIGHT" and response.headers["retry-after"]
            in_flight_seen += 1
            await asyncio.sleep(0.05)

    answers = await asyncio.gather(*(until_answered() for _ in range(20)))
    responses = [response for response, _ in answers]
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1, "every answer is the same bytes"
    originals = [r for r in responses if "idempotent-replayed" not in r.headers]
    assert len(originals) == 1, "exactly one request did the work; the others were replays"
    assert sum(seen for _, seen in answers) > 0, "the race should have been real: some saw IN_FLIGHT"
    assert await count_posts(session) == len(targets)
    ids = sorted(responses[0].json()["scheduledPostIds"])
    assert sorted(row.id for row in await sql(session, "SELECT id FROM scheduled_posts")) == ids


async def test_schedule_replays_with_its_stash(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    headers, when = {"Idempotency-Key": "sched-1"}, later()
    first = await schedule(tenant, content["id"], [target(tenant.tiktok)], when, **headers)
    again = await schedule(tenant, content["id"], [target(tenant.tiktok)], when, **headers)
    assert first.json()["gateStatus"] == "blocked_on_approval"
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert await count_posts(session) == 1


async def test_approve_replays_instead_of_answering_conflict(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=5)
    content = await tenant.content()
    headers = {**tenant.headers, "Idempotency-Key": "approve-1"}
    first = await client.post(f"/v1/content/{content['id']}/approve", json={"note": "ok"}, headers=headers)
    again = await client.post(f"/v1/content/{content['id']}/approve", json={"note": "ok"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    [project] = await sql(session, "SELECT current_blocked_count FROM projects")
    assert project.current_blocked_count == 1


async def test_reject_replays(client, tenant):
    content = await tenant.content()
    headers = {**tenant.headers, "Idempotency-Key": "reject-1"}
    first = await client.post(f"/v1/content/{content['id']}/reject", json={"reason": "no"}, headers=headers)
    again = await client.post(f"/v1/content/{content['id']}/reject", json={"reason": "no"}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_content_create_replays_its_201_and_creates_one_container(client, tenant, session):
    body = {
        "projectId": tenant.project["id"],
        "mediaType": "image",
        "media": [{"url": "https://cdn.example.com/a.jpg"}],
    }
    headers = {**tenant.headers, "Idempotency-Key": "content-1"}
    first = await client.post("/v1/content", json=body, headers=headers)
    again = await client.post("/v1/content", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    [row] = await sql(session, "SELECT count(*) AS n FROM content_containers")
    assert row.n == 1
    changed = await client.post("/v1/content", json={**body, "caption": "new"}, headers=headers)
    assert changed.status_code == 422 and error_of(changed)["code"] == "IDEMPOTENCY_KEY_REUSED"
