"""A measurement, not a test (pytest collects it only when named): publish -> first claim through the wake-up.

    .venv/bin/python -m pytest tests/delivery/measure_wake_latency.py -q -s

Publishes one post at a time through the in-process API to an arq-hosted worker whose sweep is 30 s
away, so only the wake-up can start each post; prints `attempted_at - created_at` (PostgreSQL's clock:
from the request's transaction start to the first claim) over the posts.
"""

from __future__ import annotations

import asyncio
import statistics

from sqlalchemy import text

from tests.delivery.conftest import FakeAdapter, published, tuned
from tests.delivery.test_worker import run_arq_worker, wait_for_status

POSTS = 30


async def test_publish_to_first_claim_latency(client, tenant, http, session):
    ctx = {
        "settings": tuned(worker_sweep_interval_seconds=30),
        "http": http,
        "adapter_for": FakeAdapter([published()]).factory,
        "shutdown_grace_seconds": 5,
    }
    _worker, stop = await run_arq_worker(ctx=ctx)
    try:
        await asyncio.sleep(1.0)  # the start-up sweep has run
        content = await tenant.content(caption="latency")
        for _ in range(POSTS):
            response = await client.post(
                f"/v1/content/{content['id']}/publish",
                headers=tenant.headers,
                json={"targets": [{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}]},
            )
            [post_id] = response.json()["scheduledPostIds"]
            await wait_for_status(post_id, "published", within=10)
            await asyncio.sleep(0.137)  # off the poll's beat
        rows = await session.execute(
            text("SELECT EXTRACT(EPOCH FROM attempted_at - created_at)::float8 FROM scheduled_posts")
        )
        seconds = sorted(rows.scalars())
    finally:
        await stop()
    p90 = seconds[int(0.9 * (len(seconds) - 1))]
    print(
        f"\npublish -> first claim over {len(seconds)} posts: p50 {statistics.median(seconds) * 1000:.0f} ms,"
        f" p90 {p90 * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )
