"""10,000 posts due at one instant, 2 workers at default settings: every post started, drained at
(close to) the steady rate. See bench_delivery_burst for how it is measured."""

from __future__ import annotations

from bench import bench_delivery_burst
from bench.bench_common import BenchResult, Context
from bench.bench_delivery_burst import run_burst

NAME = "delivery_burst_large"
TITLE = "10,000 posts due at one instant, 2 workers at default settings"
EXTRA_SECONDS = bench_delivery_burst.EXTRA_SECONDS


async def run(context: Context) -> BenchResult:
    return await run_burst(context, NAME, TITLE, "burst_large")
