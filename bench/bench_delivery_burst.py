"""Bursts: 1,000 and 10,000 posts due at one instant, 2 `crier worker`s at their default settings.

Same instant sandbox and seeding as bench_delivery_floor. First the 2 workers' steady rate (a backlog
of `steady_posts` already due, rate between the 30 % and 90 % ends), then each burst: the posts are
written due at T = now + `BURST_LEAD_SECONDS` while the workers run, and the figures are the start
lateness (attemptedAt - scheduledFor) p50 / p99 / max, the drain time (T to the last end) and the drain
rate (posts / drain time) against the steady rate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.bench_common import BenchResult, Context, Deadline, percentile
from bench.bench_delivery_floor import (
    InstantPlatform,
    cpu_seconds,
    run_report,
    seed,
    sizes,
    start_workers,
    stop_workers,
    template_post,
    wait_ended,
)

NAME = "delivery_burst"
TITLE = "1,000 posts due at one instant, 2 workers at default settings"
BURST_LEAD_SECONDS = 5.0
WORKERS = 2
EXTRA_SECONDS = 120  # a loaded machine: the steady backlog and the burst each take their while


async def run(context: Context) -> BenchResult:
    return await run_burst(context, NAME, TITLE, "burst_small")


async def run_burst(context: Context, name: str, title: str, key: str) -> BenchResult:
    """The 2 workers' steady rate, then `sizes()[key]` posts due at one instant."""
    # The driver allows each benchmark its budget + EXTRA_SECONDS + 60 s; the big burst needs most of it.
    deadline = Deadline(context.scale.budget_seconds + EXTRA_SECONDS + 45, name)
    result = BenchResult(name, title)
    size = sizes(context)
    tenant = await context.tenant()
    await context.stop_workers()
    await context.park_undelivered()
    template = await template_post(context, tenant)
    async with InstantPlatform(context.stack) as platform:
        procs = await start_workers(context, platform.worker_env(), WORKERS, deadline)
        try:
            warm = await seed(context, tenant, template, size["warmup_posts"])
            await wait_ended(context, warm, size["warmup_posts"], deadline)
            cpu_before = cpu_seconds(procs)
            steady_label = await seed(context, tenant, template, size["steady_posts"])
            await wait_ended(context, steady_label, size["steady_posts"], deadline)
            steady_cpu = cpu_seconds(procs) - cpu_before
            steady = await run_report(context, steady_label)
            steady.pop("lateness_s")
            rate = steady["steady_posts_per_second"]
            context.log(f"  2 workers steady: {rate:.1f} posts/s {steady['statuses']}")
            result.details["steady"] = steady
            steady_cpu_ms = 1000 * steady_cpu / max(1, steady["statuses"].get("published", 0))
            count = size[key]
            due = datetime.now(UTC) + timedelta(seconds=BURST_LEAD_SECONDS)
            cpu_before, sandbox_before = cpu_seconds(procs), cpu_seconds([platform.proc])
            label = await seed(context, tenant, template, count, due=due)
            await wait_ended(context, label, count, deadline)
            cpu = cpu_seconds(procs) - cpu_before
            burst = await run_report(context, label)
            burst["sandbox_cpu_seconds"] = cpu_seconds([platform.proc]) - sandbox_before
            late = burst.pop("lateness_s")
            context.log(
                f"  burst {count}: p99 late {percentile(late, 0.99):.2f} s, drain "
                f"{burst['drain_seconds']:.1f} s {burst['statuses']}"
            )
            note = f"{burst['started']} of {count} started; {WORKERS} workers"
            for label, share in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
                result.add(
                    f"{count} due at once: start lateness {label}",
                    percentile(late, share),
                    "s",
                    "1 s",
                    1.0,
                    note=note if label == "p50" else "",
                )
            result.add(
                f"{count} due at once: drain time",
                burst["drain_seconds"],
                "s",
                "posts / steady rate",
                count / rate,
            )
            result.add(
                f"{count} due at once: drain rate",
                burst["drain_posts_per_second"],
                "posts/s",
                "steady rate, 2 workers",
                rate,
            )
            published = burst["statuses"].get("published", 0)
            result.add(
                f"{count} due at once: CPU per delivered post",
                1000 * cpu / max(1, published),
                "ms",
                "steady run",
                steady_cpu_ms,
                note="both workers' CPU time / posts published",
            )
            burst["cpu_seconds"] = cpu
            result.details[key] = burst
        finally:
            await stop_workers(context, procs)
    result.details["sizes"] = size
    return result
