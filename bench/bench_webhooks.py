"""Webhooks: what a subscribed endpoint costs post delivery, and how close sends come to a bare POST loop.

Delivery with webhooks: one worker delivers `delivery_posts` TikTok posts for an organization with no
webhook endpoint (the baseline), then as many for an organization whose endpoint is subscribed to
every post event (pointing at the sandbox's receiver): each of those posts writes two outbox events
in its own statements and the worker's sender POSTs them while the posts are being delivered.
posts/s = posts / (last terminal `updated_at` - first `created_at`), PostgreSQL's clock. Target ≥ 0.8.

Webhook sends/s: `webhook_sends` test.ping deliveries are written for one endpoint, then made due at
one instant; sends/s = deliveries / (last delivered `updated_at` - that instant). The floor: the same
number of POSTs of the same signed bodies to the same receiver from a bare httpx loop in this process,
with as many in flight as the sender allows one endpoint (`CRIER_WEBHOOK_ENDPOINT_CONCURRENCY`).
Target ≥ 0.8 of the floor.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.bench_common import BenchResult, Context, Deadline, build_tenant, expect
from bench.bench_delivery import publish_many, throughput
from crier.core.settings import Settings
from crier.webhooks.signing import signature_header

NAME = "webhooks"
TITLE = "Webhooks: delivery with a subscribed endpoint vs without; sends/s vs a bare httpx POST loop"
POST_EVENTS = ["post.scheduled", "post.published", "post.draft", "post.failed", "post.canceled"]
SENDS = {"full": 2000, "tiny": 20}

_QUEUE = """
    WITH made AS (SELECT webhook_event_id() AS id FROM generate_series(1, $3::int) OFFSET 0),
    events AS (
        INSERT INTO webhook_events (id, organization_id, type, body)
        SELECT id, $1::text, 'test.ping', jsonb_build_object('id', id, 'type', 'test.ping', 'createdAt', now()::text,
                                                       'organizationId', $1::text, 'projectId', NULL,
                                                       'data', jsonb_build_object('endpointId', $2::text))::text
        FROM made RETURNING id)
    INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, next_retry_at)
    SELECT 'whd_' || gen_random_uuid(), $1::text, $2::text, id, 'test.ping', 'infinity' FROM events
"""


async def subscribe(
    context: Context, headers: dict[str, str], name: str, events: list[str]
) -> dict[str, Any]:
    body = {"url": f"{context.stack.sandbox_url}/webhooks/{name}", "events": events}
    created = expect(await context.http.post("/v1/webhook-endpoints", json=body, headers=headers), 201)
    async with httpx.AsyncClient() as http:
        (
            await http.post(
                f"{context.stack.sandbox_url}/_sandbox/webhooks/{name}",
                json={"secrets": [created["signingSecret"]]},
            )
        ).raise_for_status()
    return created


async def wait_sent(context: Context, endpoint_id: str, deadline: Deadline) -> None:
    while await context.db.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
        "AND status IN ('pending', 'delivering')",
        endpoint_id,
    ):
        deadline.check("waiting for webhook deliveries to settle")
        await asyncio.sleep(0.05)


async def sender_rate(
    context: Context, organization_id: str, endpoint_id: str, count: int, deadline: Deadline
) -> float:
    await context.db.execute(_QUEUE, organization_id, endpoint_id, count)
    released = await context.db.fetchval(
        "WITH due AS (UPDATE webhook_deliveries SET next_retry_at = now() WHERE endpoint_id = $1 "
        "AND status = 'pending' RETURNING 1) SELECT now() FROM (SELECT count(*) FROM due) AS released",
        endpoint_id,
    )
    await wait_sent(context, endpoint_id, deadline)
    span = await context.db.fetchval(
        "SELECT EXTRACT(EPOCH FROM max(updated_at) - $2::timestamptz)::float8 FROM webhook_deliveries "
        "WHERE endpoint_id = $1 AND status = 'delivered'",
        endpoint_id,
        released,
    )
    return count / max(span, 1e-3)


async def floor_rate(url: str, secret: str, bodies: list[bytes], concurrency: int, timeout: float) -> float:
    """The same POSTs from a bare httpx loop: `concurrency` in flight, no database."""
    queue = list(bodies)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:

        async def lane() -> None:
            while queue:
                body = queue.pop()
                headers = {
                    "Content-Type": "application/json",
                    "X-Layers-Signature": signature_header([secret], body),
                }
                (await http.post(url, content=body, headers=headers)).raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - began)


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    defaults = Settings()
    sends = SENDS["tiny"] if scale.delivery_posts < 100 else SENDS["full"]
    plain = await context.tenant()
    hooked = await build_tenant(context.stack, context.http, label="webhooks")
    endpoint = await subscribe(context, hooked.headers, "bench-posts", POST_EVENTS)
    await context.stop_workers()
    result.details["parked_before"] = await context.park_undelivered()
    try:
        await context.start_worker(deadline)
        for tenant in (plain, hooked):  # warm-up: adapters imported, connections open, the sender awake
            await context.wait_terminal(
                await publish_many(context, tenant, scale.delivery_warmup_posts, tag="webhooks warmup"),
                deadline,
            )
        await wait_sent(context, endpoint["endpoint"]["id"], deadline)
        runs: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(2):  # interleaved, so drift on a shared machine hits both alike
            for label, tenant in (("without", plain), ("with", hooked)):
                measured = await throughput(context, tenant, scale.delivery_posts, deadline, workers=1)
                runs[label].append(measured["posts_per_second"])
        await wait_sent(context, endpoint["endpoint"]["id"], deadline)
        without, with_hooks = max(runs["without"]), max(runs["with"])
        context.log(f"  webhooks: delivery {with_hooks:.1f} posts/s with an endpoint, {without:.1f} without")
        result.add(
            "delivery throughput, 1 subscribed endpoint",
            with_hooks,
            "posts/s",
            "no endpoint",
            without,
            note=f"{scale.delivery_posts} posts per run, best of 2 interleaved runs each, 1 worker; "
            "2 events per post sent meanwhile",
        )

        pings = await subscribe(context, hooked.headers, "bench-sends", ["test.ping"])
        endpoint_id = pings["endpoint"]["id"]
        rates, floors = [], []
        for _ in range(2):  # interleaved, best of 2 each, like the delivery figure
            rates.append(await sender_rate(context, hooked.organization_id, endpoint_id, sends, deadline))
            bodies = [
                row["body"].encode()
                for row in await context.db.fetch(
                    "SELECT e.body FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id "
                    "WHERE d.endpoint_id = $1 ORDER BY e.id DESC LIMIT $2",
                    endpoint_id,
                    sends,
                )
            ]
            floors.append(
                await floor_rate(
                    f"{context.stack.sandbox_url}/webhooks/bench-sends",
                    pings["signingSecret"],
                    bodies,
                    defaults.webhook_endpoint_concurrency,
                    defaults.webhook_timeout_seconds,
                )
            )
        rate, floor = max(rates), max(floors)
        context.log(f"  webhooks: {rate:.0f} sends/s; bare httpx POST loop {floor:.0f}/s")
        result.add(
            "webhook sends/s, one endpoint",
            rate,
            "sends/s",
            "bare httpx POST loop",
            floor,
            note=f"{sends} deliveries due at once (the sender finds them at its next tick); "
            f"{defaults.webhook_endpoint_concurrency} in flight on both sides, same receiver, same signed "
            "bodies; best of 2 interleaved runs each",
        )
        result.details["throughput"] = runs
        result.details["sends"] = {"count": sends, "sender": rates, "floor": floors}
    finally:
        await context.stop_workers()
        result.details["parked_after"] = await context.park_undelivered()
    return result
