"""The webhook part of `make chaos`: an endpoint per organization, a receiver that fails for a while, an audit.

Before the first post, every organization subscribes an endpoint to every post event, pointing at the
sandbox's receiver, which answers 503 (Retry-After: 1) to its first requests. Workers are SIGKILLed
during sends like during everything else. After every post is terminal and every delivery settled,
the audit reads what the receiver got, PostgreSQL's outbox and the posts, and checks:

- every terminal post has its terminal event (post.published for a published post, ...) delivered
  (answered 2xx) at least once;
- no event id arrived with two different bodies;
- nothing was delivered for a change that did not commit: every event received is in the outbox
  with the same bytes, and a terminal event's status is the post's final status.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict

import httpx

from bench.chaos.state import ChaosState
from crier.core.vocabulary import TERMINAL_STATUSES
from crier.webhooks.events import POST_EVENT_BY_STATUS
from crier.webhooks.policy import AUTO_PAUSE_AFTER_FAILURES

POST_EVENTS = list(POST_EVENT_BY_STATUS.values())
TERMINAL_EVENT = {status: POST_EVENT_BY_STATUS[status] for status in TERMINAL_STATUSES}
# Per endpoint, below the consecutive failures that would auto-pause it (a paused endpoint keeps
# its events pending: that is tested in tests/webhooks, not here).
FAIL_FIRST_REQUESTS = 12
assert FAIL_FIRST_REQUESTS < AUTO_PAUSE_AFTER_FAILURES
SETTLE_SECONDS = 120.0


async def subscribe(chaos: ChaosState) -> None:
    """One endpoint per organization, to the sandbox's receiver, which fails its first requests."""
    async with httpx.AsyncClient(base_url=chaos.stack.sandbox_url, timeout=10) as sandbox:
        for org in chaos.orgs.values():
            name = f"chaos-{org.name}"
            response = await chaos.http.post(
                "/v1/webhook-endpoints",
                headers=org.headers,
                json={"url": f"{chaos.stack.sandbox_url}/webhooks/{name}", "events": POST_EVENTS},
            )
            if response.status_code != 201:
                raise RuntimeError(f"webhook endpoint for {org.name}: {response.status_code} {response.text}")
            script = {
                "secrets": [response.json()["signingSecret"]],
                "failStatus": 503,
                "failCount": FAIL_FIRST_REQUESTS,
                "retryAfter": "1",
            }
            (await sandbox.post(f"/_sandbox/webhooks/{name}", json=script)).raise_for_status()
    chaos.event(
        f"webhooks: {len(chaos.orgs)} endpoints subscribed; the receiver fails the first "
        f"{FAIL_FIRST_REQUESTS} requests of each with 503"
    )


async def _outbox(chaos: ChaosState) -> tuple[dict[str, str], Counter]:
    from sqlalchemy import text

    async with chaos.db.engine.connect() as connection:
        bodies = {
            row.id: row.body for row in await connection.execute(text("SELECT id, body FROM webhook_events"))
        }
        open_by_status = Counter(
            {
                row.status: row.n
                for row in await connection.execute(
                    text("SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status")
                )
            }
        )
    return bodies, open_by_status


async def settle_and_audit(chaos: ChaosState) -> None:
    """Wait for every delivery to settle, then check the three webhook guarantees and print the counts."""
    began = time.monotonic()
    while True:
        try:
            _, statuses = await _outbox(chaos)
        except Exception as exc:
            chaos.event(f"webhooks: outbox read failed: {type(exc).__name__}")
            statuses = Counter({"pending": 1})
        if not statuses["pending"] + statuses["delivering"] or time.monotonic() - began > SETTLE_SECONDS:
            break
        await asyncio.sleep(1)
    settled_in = time.monotonic() - began
    bodies, statuses = await _outbox(chaos)
    async with httpx.AsyncClient(base_url=chaos.stack.sandbox_url, timeout=30) as sandbox:
        received = (await sandbox.get("/_sandbox/webhooks")).json()["items"]
    rows = await chaos.db.rows()

    delivered = [item for item in received if item["answered"] == 200]
    by_event_id: dict[str, set[str]] = defaultdict(set)
    for item in received:
        by_event_id[item["eventId"]].add(item["body"])
    two_payloads = [event_id for event_id, seen in by_event_id.items() if len(seen) > 1]
    invented = [item["eventId"] for item in received if bodies.get(item["eventId"]) != item["body"]]
    terminal_seen: set[tuple[str, str]] = set()
    wrong_status = []
    for item in delivered:
        event = item["event"]
        post_id = event["data"].get("scheduledPostId")
        terminal_seen.add((event["type"], post_id))
        if (
            event["type"] in TERMINAL_EVENT.values()
            and rows.get(post_id, {}).get("status") != event["data"]["status"]
        ):
            wrong_status.append(event["id"])
    terminal_posts = {
        post_id: row["status"] for post_id, row in rows.items() if row["status"] in TERMINAL_EVENT
    }
    missing = [
        post_id
        for post_id, status in terminal_posts.items()
        if (TERMINAL_EVENT[status], post_id) not in terminal_seen
    ]
    unsigned = [item["eventId"] for item in received if item["signatureValid"] is not True]
    redelivered = sum(
        count - 1 for count in Counter(item["eventId"] for item in delivered).values() if count > 1
    )

    chaos.event(f"webhooks: settled {settled_in:.1f} s after the posts; deliveries {dict(statuses)}")
    chaos.check(
        "webhooks: every terminal post's terminal event delivered",
        not missing,
        f"terminal posts {len(terminal_posts)}, with their terminal event delivered "
        f"{len(terminal_posts) - len(missing)}, missing {len(missing)} {missing[:3]}",
    )
    chaos.check(
        "webhooks: no event id with two payloads",
        not two_payloads,
        f"event ids received {len(by_event_id)}, with two different payloads {len(two_payloads)}",
    )
    chaos.check(
        "webhooks: nothing delivered for a change that did not commit",
        not invented and not wrong_status,
        f"requests {len(received)} (2xx {len(delivered)}, redelivered {redelivered}); not in the outbox "
        f"as sent {len(invented)}; terminal event disagreeing with the post {len(wrong_status)}",
    )
    chaos.check("webhooks: every request signed", not unsigned, f"bad signatures {len(unsigned)}")
    chaos.check(
        "webhooks: every delivery settled",
        not statuses["pending"] + statuses["delivering"],
        f"{dict(statuses)}",
    )
    print(
        f"WEBHOOK COUNTS terminal_posts={len(terminal_posts)} terminal_events_missing={len(missing)} "
        f"events={len(bodies)} received={len(received)} delivered_2xx={len(delivered)} "
        f"redelivered={redelivered} two_payloads={len(two_payloads)} not_committed={len(invented) + len(wrong_status)}",
        flush=True,
    )
