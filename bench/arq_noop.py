"""The arq floor: an arq worker (max_jobs 20) whose job does nothing but count itself in Redis.

    python -m bench.arq_noop        (REDIS_URL from the env; burst mode: exits when the queue is empty)

bench_delivery_floor enqueues the jobs first, then runs this; the jobs/s figure is read from the
counter's progress, so the worker's start-up is not in it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from arq.connections import RedisSettings
from arq.worker import run_worker

QUEUE = "crier-bench:noop"
DONE_KEY = "crier-bench:noop:done"
STAMPS_KEY = "crier-bench:noop:stamps"  # (count, time) every STAMP_EVERY jobs


async def noop(ctx: dict[str, Any]) -> None:
    done = await ctx["redis"].incr(DONE_KEY)
    if done % 100 == 0:
        await ctx["redis"].rpush(STAMPS_KEY, f"{done} {time.time()}")


class WorkerSettings:
    functions = [noop]
    queue_name = QUEUE
    max_jobs = 20
    burst = True
    keep_result = 0
    poll_delay = 0.05
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


if __name__ == "__main__":
    run_worker(WorkerSettings)  # type: ignore[arg-type]
