"""WEBHOOKS.md §3–4: events are written in the transaction of the change they report, only when wanted."""

from __future__ import annotations

import json

from crier.accounts.service import mark_reauth_required
from crier.delivery import repository as delivery_repository
from tests.delivery.conftest import claim_one
from tests.publishing.helpers import later, publish, schedule, sp_id, sql, target
from tests.webhooks.conftest import ALL_POST_EVENTS

EVERYTHING = [*ALL_POST_EVENTS, "content.approved", "content.rejected", "social_account.needs_reauth"]


async def events(session, where: str = "true") -> list[dict]:
    rows = await sql(session, f"SELECT body FROM webhook_events WHERE {where} ORDER BY id")
    return [json.loads(body) for (body,) in rows]


async def counts(session) -> tuple[int, int]:
    [(events_count, deliveries_count)] = await sql(
        session, "SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM webhook_deliveries)"
    )
    return events_count, deliveries_count


async def test_publish_writes_post_scheduled_for_every_target(tenant, create_endpoint, session):
    endpoint_id = (await create_endpoint())["endpoint"]["id"]
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
    assert response.status_code == 200, response.text
    post_ids = response.json()["scheduledPostIds"]
    written = await events(session)
    assert sorted(event["data"]["scheduledPostId"] for event in written) == sorted(post_ids)
    for event in written:
        assert event["type"] == "post.scheduled" and event["projectId"] == tenant.project["id"]
        assert event["organizationId"] == tenant.organization["id"]
        data = event["data"]
        assert (data["status"], data["sequence"], data["containerId"], data["mode"]) == (
            "scheduled",
            1,
            content["id"],
            "publish",
        )
        assert set(data) == {
            "scheduledPostId",
            "containerId",
            "socialAccountId",
            "platform",
            "mode",
            "scheduledFor",
            "status",
            "sequence",
        }
    deliveries = await sql(session, "SELECT endpoint_id, status, sequence FROM webhook_deliveries")
    assert deliveries == [(endpoint_id, "pending", 1)] * 2


async def test_no_endpoint_no_rows(tenant, session):
    content = await tenant.content()
    assert (await publish(tenant, content["id"], [target(tenant.tiktok)])).status_code == 200
    assert await counts(session) == (0, 0)


async def test_only_endpoints_that_want_the_event_get_it(tenant, admin, create_endpoint, session):
    await create_endpoint(events=["post.published"])  # not post.scheduled
    other_project = await admin.project(tenant.organization["id"], name="Other")
    await create_endpoint(projectId=other_project["id"])  # another project's events only
    content = await tenant.content()
    assert (await publish(tenant, content["id"], [target(tenant.tiktok)])).status_code == 200
    assert await counts(session) == (0, 0)
    wanted = (await create_endpoint(projectId=tenant.project["id"], events=["post.scheduled"]))["endpoint"][
        "id"
    ]
    assert (await publish(tenant, content["id"], [target(tenant.tiktok)])).status_code == 200
    assert await sql(session, "SELECT endpoint_id FROM webhook_deliveries") == [(wanted,)]


async def test_a_refused_batch_writes_no_event(tenant, create_endpoint, session):
    await create_endpoint()
    content = await tenant.content()
    taken = sp_id()
    assert (
        await publish(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=taken)])
    ).status_code == 200
    before = await counts(session)
    refused = await publish(
        tenant, content["id"], [target(tenant.instagram), target(tenant.tiktok, scheduledPostId=taken)]
    )
    assert refused.status_code == 409
    assert await counts(session) == before


async def test_cancel_writes_post_canceled_with_the_next_sequence(client, tenant, create_endpoint, session):
    await create_endpoint()
    content = await tenant.content()
    [post_id] = (await schedule(tenant, content["id"], [target(tenant.tiktok)], later())).json()[
        "scheduledPostIds"
    ]
    response = await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)
    assert response.status_code == 200
    canceled = await events(session, "type = 'post.canceled'")
    assert len(canceled) == 1
    assert (canceled[0]["data"]["sequence"], canceled[0]["data"]["status"]) == (2, "canceled")
    assert canceled[0]["data"]["canceledAt"].endswith("Z")


async def test_approval_writes_content_approved_and_the_promoted_posts(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    created = await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": "https://hooks.example.com/x", "events": EVERYTHING},
    )
    assert created.status_code == 201
    content = await tenant.content()
    [post_id] = (await schedule(tenant, content["id"], [target(tenant.tiktok)], later())).json()[
        "scheduledPostIds"
    ]
    assert await counts(session) == (0, 0)  # a stashed target is not scheduled yet
    response = await client.post(f"/v1/content/{content['id']}/approve", headers=tenant.headers)
    assert response.status_code == 200
    approved, scheduled = (
        await events(session, "type = 'content.approved'"),
        await events(session, "type = 'post.scheduled'"),
    )
    assert approved[0]["data"] | {"approvedAt": None} == {
        "id": content["id"],
        "projectId": tenant.project["id"],
        "approvedAt": None,
        "approvedBy": tenant.key["id"],
    }
    assert [(e["data"]["scheduledPostId"], e["data"]["sequence"]) for e in scheduled] == [(post_id, 2)]


async def test_rejection_writes_content_rejected_and_cancels_the_stash(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": "https://hooks.example.com/x", "events": EVERYTHING},
    )
    content = await tenant.content()
    await schedule(tenant, content["id"], [target(tenant.tiktok)], later())
    response = await client.post(
        f"/v1/content/{content['id']}/reject", headers=tenant.headers, json={"reason": "off brand"}
    )
    assert response.status_code == 200, response.text
    [rejected] = await events(session, "type = 'content.rejected'")
    assert (rejected["data"]["reason"], rejected["data"]["rejectedBy"]) == ("off brand", tenant.key["id"])
    [canceled] = await events(session, "type = 'post.canceled'")
    assert canceled["data"]["status"] == "canceled"


async def test_fenced_delivery_writes_emit_only_when_they_win(tenant, create_endpoint, make_post, session):
    await create_endpoint()
    post_id = await make_post()
    claim = await claim_one()
    async with delivery_repository.transaction() as db:
        lost = await delivery_repository.mark_delivered(
            db,
            post_id=post_id,
            fence=claim.fence + 1,
            status="published",
            external_id="1",
            external_url=None,
        )
    assert lost is False and await counts(session) == (0, 0)
    async with delivery_repository.transaction() as db:
        won = await delivery_repository.mark_delivered(
            db,
            post_id=post_id,
            fence=claim.fence,
            status="published",
            external_id="7301",
            external_url="https://t.example/7301",
        )
    assert won is True
    [event] = await events(session)
    assert event["type"] == "post.published"
    assert (event["data"]["externalId"], event["data"]["externalUrl"], event["data"]["sequence"]) == (
        "7301",
        "https://t.example/7301",
        2,
    )
    assert event["data"]["publishedAt"].endswith("Z")


async def test_a_rolled_back_delivery_write_emits_nothing(tenant, create_endpoint, make_post, session):
    await create_endpoint()
    post_id = await make_post()
    claim = await claim_one()
    try:
        async with delivery_repository.transaction() as db:
            await delivery_repository.mark_failed(
                db,
                post_id=post_id,
                fence=claim.fence,
                error={"code": "X", "message": "m", "platform": "tiktok"},
            )
            raise RuntimeError("the process dies before the commit")
    except RuntimeError:
        pass
    assert await counts(session) == (0, 0)
    async with delivery_repository.transaction() as db:
        await delivery_repository.mark_failed(
            db,
            post_id=post_id,
            fence=claim.fence,
            error={"code": "X", "message": "m", "platform": "tiktok"},
        )
    [event] = await events(session)
    assert event["type"] == "post.failed"
    assert event["data"]["lastError"] == {"code": "X", "message": "m", "platform": "tiktok"}


async def test_a_disconnected_account_emits_needs_reauth(client, tenant, session):
    await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": "https://hooks.example.com/x", "events": ["social_account.needs_reauth"]},
    )
    async with delivery_repository.transaction() as db:
        await mark_reauth_required(db, account_id=tenant.tiktok["id"], reason="refresh refused")
    async with delivery_repository.transaction() as db:  # already needs a reauth: no second event
        await mark_reauth_required(db, account_id=tenant.tiktok["id"], reason="again")
    [event] = await events(session)
    assert event["type"] == "social_account.needs_reauth"
    assert event["data"] == {
        "socialAccountId": tenant.tiktok["id"],
        "platform": "tiktok",
        "handle": "creator",
        "reason": "refresh refused",
    }


async def test_a_deferral_emits_post_deferred_with_its_time_and_reason(
    tenant, create_endpoint, make_post, session
):
    from crier.quota import repository as quota_repository

    await create_endpoint(events=["post.deferred"])
    post_id = await make_post()
    claim = await claim_one()
    reason = {"code": "QUOTA_DEFERRED", "message": "TikTok allows 6 inits per minute.", "platform": "tiktok"}
    async with delivery_repository.transaction() as db:
        assert await quota_repository.defer_post(
            db, post_id=post_id, fence=claim.fence, due_in=30, error=reason
        )

    [event] = await events(session)
    assert event["type"] == "post.deferred"
    assert event["data"]["status"] == "scheduled" and event["data"]["lastError"] == reason
    assert event["data"]["deferredUntil"].endswith("Z") and event["data"]["sequence"] == 2
