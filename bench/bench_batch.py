"""Batch write is set-based: a 50-target publish against a 1-target one, on a real `crier api`.

Issue: "Write the batch in one transaction with set-based statements, not one round trip per target."
Times `POST /v1/content/{id}/publish` with `batch_targets` targets and with 1 target, interleaved, after
a warm-up, and reports the median of each, their ratio, and the per-target cost. Then counts the SQL
statements each request sends (PostgreSQL's `log_statement`, read back from the server log): a
set-based write sends as many for 50 targets as for 1. No worker runs meanwhile (the posts stay
`scheduled`, and are parked as canceled at the end so that nothing delivers them later).
"""

from __future__ import annotations

from bench.bench_common import (
    BenchResult,
    Context,
    Deadline,
    StatementLog,
    expect,
    median,
    summary_ms,
    targets,
)

NAME = "batch"
TITLE = "Batch write is set-based (POST /publish, N targets vs 1)"


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    tenant = await context.tenant()
    path = f"/v1/content/{tenant.container_id}/publish"
    many = scale.batch_targets
    bodies = {
        1: {"targets": targets(tenant, 1, tag="batch")},
        many: {"targets": targets(tenant, many, tag="batch")},
    }
    if context.stack.workers:
        await context.stop_workers()  # their sweeps would be counted, and they would deliver these posts

    async def publish(size: int) -> float:
        took, response = await context.timed("POST", path, json=bodies[size], headers=tenant.headers)
        ids = expect(response, 200)["scheduledPostIds"]
        if len(ids) != size:
            raise RuntimeError(f"a {size}-target publish answered {len(ids)} ids")
        return took

    samples: dict[int, list[float]] = {1: [], many: []}
    try:
        for _ in range(scale.warmup):
            for size in (1, many):
                await publish(size)
        for rep in range(scale.reps):
            deadline.check("timing publishes")
            order = (1, many) if rep % 2 == 0 else (many, 1)  # interleaved: drift hits both alike
            for size in order:
                samples[size].append(await publish(size))

        one, batch = median(samples[1]), median(samples[many])
        result.add(
            f"publish {many} targets, median latency", batch * 1000, "ms", "publish 1 target", one * 1000
        )
        per_target = batch / many
        result.add(
            f"per-target cost inside a {many}-target publish",
            per_target * 1000,
            "ms",
            "1-target publish (whole request)",
            one * 1000,
            note="amortized: (N-target latency) / N",
        )
        # From the fastest of each size: the difference of two medians sinks into the machine's noise
        # now that a target costs a fraction of a millisecond (it came out negative on a busy machine).
        marginal = (min(samples[many]) - min(samples[1])) / (many - 1) if many > 1 else float("nan")
        result.add(
            "marginal cost of one more target",
            marginal * 1000,
            "ms",
            "1-target publish (whole request)",
            one * 1000,
            note="(fastest N-target - fastest 1-target) / (N - 1)",
        )
        result.details["latency"] = {"1": summary_ms(samples[1]), str(many): summary_ms(samples[many])}

        # SQL statements per request, counted from the server's own log.
        counts: dict[int, list[dict[str, int]]] = {1: [], many: []}
        async with StatementLog(context) as statements:
            await publish(1)  # every API connection has now seen the reload
            for _ in range(scale.statement_samples):
                for size in (1, many):
                    deadline.check("counting statements")
                    statements.mark()
                    await publish(size)
                    counts[size].append(await statements.count())
        one_count = median([c["total"] for c in counts[1]])
        many_count = median([c["total"] for c in counts[many]])
        result.add(
            f"SQL statements per {many}-target publish",
            many_count,
            "stmts",
            "per 1-target publish",
            one_count,
            note="log_statement=all on the API's connections; ratio 1.0 = set-based",
        )
        result.details["statements"] = {
            "1": counts[1][-1],
            str(many): counts[many][-1],
            f"{many}_sql": statements.last,
        }
    finally:
        result.details["parked_posts"] = await context.park_undelivered()
    return result
