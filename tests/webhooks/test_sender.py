"""WEBHOOKS.md §2 and §4 at the sender: the request, the ladder, auto-pause, ordering, fences, abandonment."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from crier.core.settings import get_settings
from crier.core.worker_db import transaction
from crier.webhooks import repository, verify
from crier.webhooks.sender import USER_AGENT, WebhookSender, create_webhook_client, send_one
from tests.publishing.helpers import later, publish, schedule, sql, target, write_sql


def settings(**changes: Any):
    return get_settings().model_copy(update={"url_allowlist": ["127.0.0.1"], **changes})


async def claim(limit: int = 10, per_endpoint: int = 10, lease_seconds: float = 30.0):
    async with transaction() as session:
        return await repository.claim_due_deliveries(
            session, limit=limit, lease_seconds=lease_seconds, per_endpoint=per_endpoint
        )


async def send_all(per_endpoint: int = 10, **changes: Any) -> list[str]:
    """Claim what is due and send it, like one sweep of the sender."""
    config = settings(**changes)
    async with create_webhook_client(config) as http:
        return [
            await send_one(delivery, http=http, settings=config)
            for delivery in await claim(per_endpoint=per_endpoint)
        ]


async def ping(client, tenant, endpoint_id: str) -> dict:
    response = await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)
    assert response.status_code == 202
    return response.json()


async def delivery_row(session, delivery_id: str):
    [row] = await sql(
        session,
        "SELECT status, attempts, last_response_status, last_error_message, "
        "extract(epoch FROM next_retry_at - now()) AS due_in, delivered_at, "
        "last_response_body FROM webhook_deliveries WHERE id = :id",
        id=delivery_id,
    )
    return row


async def test_the_request_is_signed_and_carries_the_event_id(
    client, tenant, create_endpoint, receiver, session
):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    await receiver.configure(secrets=[created["signingSecret"]])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    assert await send_all() == ["delivered"]
    [heard] = await receiver.received()
    [(stored_body,)] = await sql(session, "SELECT body FROM webhook_events")
    assert heard["body"] == stored_body and heard["eventId"] == delivery["eventId"] == heard["event"]["id"]
    assert heard["signatureValid"] is True and heard["userAgent"] == USER_AGENT
    assert verify(created["signingSecret"], heard["signature"], heard["body"])
    status, attempts, response_status, error, _, delivered_at, kept = await delivery_row(
        session, delivery["id"]
    )
    assert (status, attempts, response_status, error) == ("delivered", 1, 200, None)
    assert delivered_at is not None and json.loads(kept) == {"received": True}


async def test_a_5xx_is_retried_on_the_ladder_and_the_same_bytes_are_sent(
    client, tenant, create_endpoint, receiver, session
):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await receiver.configure(failStatus=503, failCount=1)
    assert await send_all() == ["pending"]
    status, attempts, response_status, error, due_in, *_ = await delivery_row(session, delivery["id"])
    assert (status, attempts, response_status, error) == ("pending", 1, 503, "HTTP 503")
    assert 27 <= due_in <= 33
    await write_sql(session, "UPDATE webhook_deliveries SET next_retry_at = now()")
    assert await send_all() == ["delivered"]
    first, second = await receiver.received()
    assert first["body"] == second["body"] and first["eventId"] == second["eventId"]


async def test_retry_after_replaces_the_next_delay(client, tenant, create_endpoint, receiver, session):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await receiver.configure(failStatus=429, failCount=1, retryAfter="5")
    assert await send_all() == ["pending"]
    *_, due_in, _, _ = await delivery_row(session, delivery["id"])
    assert 3 <= due_in <= 5.5


async def test_other_4xx_fails_at_once(client, tenant, create_endpoint, receiver, session):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await receiver.configure(failStatus=410, failCount=1)
    assert await send_all() == ["failed"]
    status, attempts, response_status, *_ = await delivery_row(session, delivery["id"])
    assert (status, attempts, response_status) == ("failed", 1, 410)


async def test_a_timeout_is_retried(client, tenant, create_endpoint, receiver, session):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await receiver.configure(failCount=1, delaySeconds=1.0)
    assert await send_all(webhook_timeout_seconds=0.2) == ["pending"]
    status, _, response_status, error, *_ = await delivery_row(session, delivery["id"])
    assert (status, response_status) == ("pending", None) and error.startswith("timed out")


async def test_the_eighth_failed_attempt_fails_the_delivery(
    client, tenant, create_endpoint, receiver, session
):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await receiver.configure(failStatus=500, failCount=-1)
    for _ in range(8):
        await write_sql(session, "UPDATE webhook_deliveries SET next_retry_at = now()")
        await send_all()
    status, attempts, *_ = await delivery_row(session, delivery["id"])
    assert (status, attempts) == ("failed", 8)


async def test_the_url_is_checked_again_at_send_time(client, tenant, create_endpoint, receiver, session):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    await write_sql(session, "UPDATE webhook_endpoints SET url = 'https://10.1.2.3/hook'")
    assert await send_all() == ["failed"]
    status, _, _, error, *_ = await delivery_row(session, delivery["id"])
    assert status == "failed" and "private" in error
    assert await receiver.received() == []


async def test_twenty_consecutive_failures_auto_pause_and_reactivation_sends_pending(
    client, tenant, create_endpoint, receiver, session
):
    endpoint_id = (await create_endpoint(url=receiver.url(), events=["test.ping"]))["endpoint"]["id"]
    for _ in range(20):
        await ping(client, tenant, endpoint_id)
    await receiver.configure(failStatus=500, failCount=-1)
    assert sorted(await send_all()) == ["pending"] * 10  # the claim took 10
    await send_all()
    endpoint = (await client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)).json()
    assert (endpoint["status"], endpoint["consecutiveFailures"]) == ("auto_paused", 20)
    await ping(client, tenant, endpoint_id)  # a paused endpoint keeps new events pending
    await write_sql(session, "UPDATE webhook_deliveries SET next_retry_at = now()")
    assert await claim() == []
    await receiver.configure(failCount=0)
    response = await client.patch(
        f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers, json={"status": "active"}
    )
    assert response.json()["consecutiveFailures"] == 0
    for _ in range(3):
        await send_all()
    [(delivered, pending)] = await sql(
        session,
        "SELECT count(*) FILTER (WHERE status = 'delivered'), "
        "count(*) FILTER (WHERE status = 'pending') FROM webhook_deliveries",
    )
    assert (delivered, pending) == (21, 0)


async def test_a_success_resets_the_failure_count(client, tenant, create_endpoint, receiver):
    endpoint_id = (await create_endpoint(url=receiver.url(), events=["test.ping"]))["endpoint"]["id"]
    await ping(client, tenant, endpoint_id)
    await ping(client, tenant, endpoint_id)
    await receiver.configure(failStatus=500, failCount=1)
    await send_all(per_endpoint=1)
    endpoint = (await client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)).json()
    assert endpoint["consecutiveFailures"] == 1
    await send_all()
    endpoint = (await client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)).json()
    assert endpoint["consecutiveFailures"] == 0


async def test_one_posts_events_go_in_sequence_order(client, tenant, create_endpoint, receiver, session):
    await create_endpoint(url=receiver.url())
    content = await tenant.content()
    [post_id] = (await schedule(tenant, content["id"], [target(tenant.tiktok)], later())).json()[
        "scheduledPostIds"
    ]
    assert (await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)).status_code == 200
    await receiver.configure(failStatus=503, failCount=1)
    [first] = await claim()  # post.canceled waits while post.scheduled is open
    assert json.loads(first.body)["type"] == "post.scheduled"
    async with create_webhook_client(settings()) as http:
        assert await send_one(first, http=http, settings=settings()) == "pending"
    assert await claim() == []  # still waiting: the earlier event is pending its retry
    await write_sql(
        session, "UPDATE webhook_deliveries SET next_retry_at = now() WHERE event_type = 'post.scheduled'"
    )
    assert await send_all() == ["delivered"]
    assert await send_all() == ["delivered"]
    heard = [item["event"] for item in await receiver.received()]
    assert [(e["type"], e["data"]["sequence"]) for e in heard] == [
        ("post.scheduled", 1),
        ("post.scheduled", 1),
        ("post.canceled", 2),
    ]


async def test_different_posts_go_in_parallel_but_one_endpoint_has_a_cap(
    client, tenant, create_endpoint, receiver
):
    await create_endpoint(url=receiver.url())
    await create_endpoint(url=receiver.url("second"))
    content = await tenant.content()
    for _ in range(3):
        assert (
            await publish(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)])
        ).status_code == 200
    claimed = await claim(limit=20, per_endpoint=4)
    by_endpoint: dict[str, int] = {}
    for delivery in claimed:
        by_endpoint[delivery.endpoint_id] = by_endpoint.get(delivery.endpoint_id, 0) + 1
    assert sorted(by_endpoint.values()) == [4, 4]
    assert await claim(limit=20, per_endpoint=4) == []  # both endpoints are at their cap while those fly


async def test_a_sender_that_lost_its_claim_writes_nothing(
    client, tenant, create_endpoint, receiver, session
):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    delivery = await ping(client, tenant, created["endpoint"]["id"])
    [stale] = await claim(lease_seconds=0.0)  # its lease runs out at once: another sender takes it
    [fresh] = await claim()
    assert (stale.event_id, stale.body) == (fresh.event_id, fresh.body) and fresh.claim == stale.claim + 1
    async with create_webhook_client(settings()) as http:
        assert await send_one(stale, http=http, settings=settings()) == "lost"
        assert await send_one(fresh, http=http, settings=settings()) == "delivered"
    status, attempts, *_ = await delivery_row(session, delivery["id"])
    assert (status, attempts) == ("delivered", 2)


async def test_a_rotation_signs_with_both_secrets_for_24_hours(client, tenant, create_endpoint, receiver):
    created = await create_endpoint(url=receiver.url(), events=["test.ping"])
    endpoint_id = created["endpoint"]["id"]
    rotated = (
        await client.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", headers=tenant.headers)
    ).json()["signingSecret"]
    await ping(client, tenant, endpoint_id)
    await send_all()
    [heard] = await receiver.received()
    assert heard["signature"].count("v1=") == 2
    assert verify(created["signingSecret"], heard["signature"], heard["body"])
    assert verify(rotated, heard["signature"], heard["body"])


async def test_pending_for_72_hours_is_abandoned(client, tenant, create_endpoint, session):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    delivery = await ping(client, tenant, endpoint_id)
    await write_sql(session, "UPDATE webhook_deliveries SET created_at = now() - interval '73 hours'")
    async with transaction() as db:
        assert await repository.abandon_stale(db) == 1
    page = (
        await client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=tenant.headers)
    ).json()
    [item] = page["items"]
    assert (item["id"], item["status"]) == (delivery["id"], "abandoned") and item["abandonedAt"].endswith("Z")


async def test_the_sender_loop_delivers_and_stops(client, tenant, create_endpoint, receiver):
    import asyncio

    endpoint_id = (await create_endpoint(url=receiver.url(), events=["test.ping"]))["endpoint"]["id"]
    for _ in range(5):
        await ping(client, tenant, endpoint_id)
    sender = WebhookSender(settings=settings(webhook_sweep_interval_seconds=0.05))
    await sender.start()
    try:
        for _ in range(100):
            if len(await receiver.received()) == 5:
                break
            await asyncio.sleep(0.05)
        assert sender.healthy
    finally:
        await sender.stop(grace_seconds=2)
    assert len({item["eventId"] for item in await receiver.received()}) == 5


async def test_a_turn_that_fails_after_its_claim_committed_strands_nothing(
    client, tenant, create_endpoint, receiver, session, monkeypatch
):
    """Issue 11: a turn whose commit went through but reported a failure (a commit that timed out)
    must not leave its claims `delivering` for a lease period, holding the endpoint's in-flight cap."""
    from contextlib import asynccontextmanager

    from crier.webhooks import sender as sender_module

    endpoint_id = (await create_endpoint(url=receiver.url(), events=["test.ping"]))["endpoint"]["id"]
    for _ in range(3):
        await ping(client, tenant, endpoint_id)
    failures = [TimeoutError()]

    @asynccontextmanager
    async def commit_then_fail():
        async with transaction() as db:
            yield db
        if failures:
            raise failures.pop()

    monkeypatch.setattr(sender_module, "transaction", commit_then_fail)
    sender = WebhookSender(settings=settings(webhook_endpoint_concurrency=1))
    try:
        try:
            await sender.sweep()
        except TimeoutError:
            pass
        [(stranded,)] = await sql(
            session, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivering'"
        )
        assert stranded == 3  # claimed and committed, but the turn never started their POSTs
        assert await sender.sweep() == 3  # the next turn releases them and claims them again at once
        for _ in range(500):  # their POSTs finish, the next turns record them
            await sender.sweep()
            if sender.held == 0:
                break
            await asyncio.sleep(0.02)
        rows = await sql(session, "SELECT status, attempts FROM webhook_deliveries")
        assert [tuple(row) for row in rows] == [("delivered", 1)] * 3  # the lost claim counts no attempt
    finally:
        await sender.stop(grace_seconds=2)


async def test_the_claim_reads_its_candidates_once_however_many_are_due(
    client, tenant, create_endpoint, session
):
    """Issue 11: with 2000 due (and statistics taken while they were not), the claim's pick was a
    nested loop rescanning every candidate for every due row: 1.6 s a claim, a stalled sender."""
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    await write_sql(
        session,
        """
        WITH made AS (SELECT webhook_event_id() AS id FROM generate_series(1, 2000) OFFSET 0),
        events AS (INSERT INTO webhook_events (id, organization_id, type, body)
                   SELECT id, :org, 'test.ping', '{}' FROM made RETURNING id)
        INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, next_retry_at)
        SELECT 'whd_' || gen_random_uuid(), :org, :endpoint, id, 'test.ping', 'infinity' FROM events
        """,
        org=tenant.organization["id"],
        endpoint=endpoint_id,
    )
    await write_sql(session, "ANALYZE webhook_deliveries")
    await write_sql(session, "UPDATE webhook_deliveries SET next_retry_at = now()")
    [(plan,)] = await sql(
        session,
        "EXPLAIN (ANALYZE, FORMAT JSON) " + repository._CLAIM.text,
        limit=160,
        scan=640,
        per_endpoint=64,
        lease=30.0,
    )  # read in a transaction that is rolled back: nothing stays claimed

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    plan = plan if isinstance(plan, list) else json.loads(plan)
    root = plan[0]["Plan"]
    assert root["Actual Rows"] == 64
    scans = [node for node in nodes(root) if node.get("CTE Name") == "candidates"]
    assert scans and all(node["Actual Loops"] <= 1 for node in scans)  # was 2000: once per due row
