"""Delivery throughput (1 worker vs 2) and punctuality of scheduled posts, through the sandbox.

Throughput: with K workers running (each `CRIER_WORKER_CONCURRENCY`=20, sandbox processing 0.05 s),
publish `delivery_posts` TikTok video posts in 50-target requests sent together, and wait until every
one is terminal. posts/s = posts / (last terminal `updated_at` - first `created_at`), both on
PostgreSQL's clock. Run with 1 worker, then with 2; the ratio is the scaling.

Punctuality: with the 2 workers, schedule `punctual_posts` posts in one request for T = now + 5 s and
read `attemptedAt - scheduledFor` of each (the first claim, PostgreSQL's clock). Without a wake-up at
T the sweep (every `CRIER_WORKER_SWEEP_INTERVAL_SECONDS` = 1 s) is what finds them, so the figures are
reported against that interval. Posts beyond the workers' free slots wait for one: they show in the max.

The workers it starts are stopped at the end; the API and sandbox stay for the other benchmarks.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_common import (
    BenchResult,
    Context,
    Deadline,
    Tenant,
    expect,
    median,
    percentile,
    targets,
)

NAME = "delivery"
TITLE = "Delivery throughput (1 vs 2 workers) and punctuality of scheduled posts"
REQUEST_TARGETS = 50


async def publish_many(
    context: Context, tenant: Tenant, count: int, *, tag: str, scheduled_for: datetime | None = None
) -> list[str]:
    """`count` posts in requests of up to 50 targets, all sent at once; their ids."""
    sizes = [min(REQUEST_TARGETS, count - start) for start in range(0, count, REQUEST_TARGETS)]
    endpoint = "publish" if scheduled_for is None else "schedule"

    async def one(batch: int, size: int) -> list[str]:
        body: dict[str, Any] = {"targets": targets(tenant, size, tag=f"{tag} b{batch}")}
        if scheduled_for is not None:
            body["scheduledFor"] = scheduled_for.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        response = await context.http.post(
            f"/v1/content/{tenant.container_id}/{endpoint}", json=body, headers=tenant.headers
        )
        return expect(response, 200)["scheduledPostIds"]

    batches = await asyncio.gather(*(one(i, size) for i, size in enumerate(sizes)))
    return [post_id for batch in batches for post_id in batch]


async def throughput(
    context: Context, tenant: Tenant, count: int, deadline: Deadline, *, workers: int
) -> dict[str, Any]:
    began = time.monotonic()
    ids = await publish_many(context, tenant, count, tag=f"throughput {workers}w")
    accepted = time.monotonic()
    ended = await context.wait_terminal(ids, deadline)
    span = await context.db.fetchval(
        "SELECT EXTRACT(EPOCH FROM max(updated_at) - min(created_at))::float8 FROM scheduled_posts "
        "WHERE id = ANY($1::text[])",
        ids,
    )
    statuses = await context.statuses(ids)
    return {
        "workers": workers,
        "posts": len(ids),
        "seconds": round(span, 3),
        "posts_per_second": len(ids) / span if span > 0 else float("nan"),
        "wall_seconds": round(ended - began, 3),
        "accept_seconds": round(accepted - began, 3),
        "statuses": statuses,
    }


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    tenant = await context.tenant()
    settings = context.stack.settings
    result.details["settings"] = {
        "worker_concurrency": settings.worker_concurrency,
        "sweep_interval_seconds": settings.sweep_interval_seconds,
        "sandbox_processing_seconds": settings.processing_seconds,
    }
    await context.stop_workers()
    result.details[
        "parked_before"
    ] = await context.park_undelivered()  # nothing left over gets delivered here
    runs: list[dict[str, Any]] = []
    try:
        for workers in (1, 2):
            while len(context.stack.workers) < workers:
                await context.start_worker(deadline)
            # Warm-up: every worker imports its adapters and opens its connections before the clock runs.
            warm = await publish_many(context, tenant, scale.delivery_warmup_posts, tag=f"warmup {workers}w")
            await context.wait_terminal(warm, deadline)
            runs.append(await throughput(context, tenant, scale.delivery_posts, deadline, workers=workers))
            context.log(
                f"  delivery: {workers} worker(s): {runs[-1]['posts_per_second']:.1f} posts/s "
                f"({runs[-1]['statuses']})"
            )
        one, two = runs
        result.add(
            "throughput, 2 workers",
            two["posts_per_second"],
            "posts/s",
            "1 worker",
            one["posts_per_second"],
            note=f"{two['posts']} posts each; first accept -> last terminal",
        )
        result.details["throughput"] = runs

        # Punctuality, with the 2 workers.
        lead = scale.punctual_lead_seconds
        due = datetime.now(UTC) + timedelta(seconds=lead)
        ids = await publish_many(context, tenant, scale.punctual_posts, tag="punctual", scheduled_for=due)
        await context.wait_terminal(ids, deadline)
        rows = await context.db.fetch(
            "SELECT EXTRACT(EPOCH FROM attempted_at - scheduled_for)::float8 AS late, status FROM scheduled_posts "
            "WHERE id = ANY($1::text[])",
            ids,
        )
        lateness = sorted(row["late"] for row in rows if row["late"] is not None)
        sweep = settings.sweep_interval_seconds
        slots = len(context.stack.workers) * settings.worker_concurrency
        for label, value in (
            ("p50", median(lateness)),
            ("p95", percentile(lateness, 0.95)),
            ("max", max(lateness) if lateness else float("nan")),
        ):
            result.add(
                f"lateness {label} (attemptedAt - scheduledFor)",
                value,
                "s",
                "sweep interval",
                sweep,
                note=f"{len(lateness)} posts due at one instant, {len(context.stack.workers)} workers "
                f"x {settings.worker_concurrency} slots"
                if label == "p50"
                else "",
            )
        within = lateness[:slots]
        result.add(
            f"lateness max, first {len(within)} claimed (one free slot each)",
            max(within) if within else float("nan"),
            "s",
            "sweep interval",
            sweep,
            note="the rest waited for a slot to free up" if len(lateness) > slots else "",
        )
        result.details["punctuality"] = {
            "posts": len(ids),
            "scheduled_for": due.isoformat(),
            "slots": slots,
            "lateness_s": [round(value, 3) for value in lateness],
            "statuses": await context.statuses(ids),
        }
    finally:
        await context.stop_workers()
        result.details["parked_after"] = await context.park_undelivered()
    return result
