"""`crier worker`: an arq worker hosting the delivery loop and the webhook sender, and `crier worker --check`.

arq brings the process shell (signal handling, a Redis queue, cron) and runs two kinds of work:
- the job `wake_delivery`, which the API enqueues after a commit (wakeup.py): this worker's delivery
  loop sweeps at once instead of at its next tick;
- cron jobs for the periodic housekeeping (housekeeping.py), each run by one worker.
Delivery itself does not depend on arq: `startup` starts the PostgreSQL sweep (loop.py), the safety
net that needs no Redis, and the worker keeps delivering while Redis is down (arq's Redis part
reconnects in the background).

Run any number of workers side by side; claims never overlap (see repository.claim_due_posts).
Liveness is recorded in PostgreSQL (the sweep upserts `worker_heartbeats`): `crier worker --check`
reads it there, so a worker delivering through a Redis outage is reported healthy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import sys
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func
from redis.exceptions import RedisError

from crier.core.db import make_engine
from crier.core.logging import configure_logging
from crier.core.settings import get_settings
from crier.delivery import repository
from crier.delivery.housekeeping import CRON_JOBS
from crier.delivery.loop import HEALTHY_SWEEP_AGE_SECONDS, DeliveryLoop
from crier.delivery.wakeup import QUEUE_NAME, WAKE_JOB
from crier.platforms.http import create_http_client
from crier.webhooks.sender import WebhookSender

log = logging.getLogger(__name__)

# arq's own health key only says that arq reaches Redis; the worker's liveness is `--check` (PostgreSQL).
HEALTH_CHECK_KEY = "crier:jobs:health-check"
HEALTH_CHECK_INTERVAL_SECONDS = 10
# In-flight steps get this long to finish after SIGTERM/SIGINT (below docker's and Kubernetes'
# default kill timeouts); a step cut off later is rescued when its lease runs out.
SHUTDOWN_GRACE_SECONDS = 8.0
# arq polls its queue (0.5 s by default); this is most of a wake-up's latency. An idle worker pays
# about 1 % of a core more for it than at the default.
POLL_SECONDS = 0.02
REDIS_RETRY_SECONDS = 1.0
_SWEEP_AFTER_JOB = "sweep_after_job"


async def startup(ctx: dict[str, Any]) -> None:
    """Start delivering (idempotent: arq calls it again after a Redis reconnect)."""
    if ctx.get("delivery") is not None:
        return
    settings = ctx.get("settings") or get_settings()
    if ctx.get("http") is None:
        ctx["http"] = create_http_client(settings)  # one shared client (connection pool) per process
        ctx["owns_http"] = True
    delivery = DeliveryLoop(
        settings=settings,
        http=ctx["http"],
        adapter_for=ctx.get("adapter_for"),
    )
    await delivery.start()
    ctx["delivery"] = delivery
    webhooks = WebhookSender(settings=settings)  # its own slots and client: receivers never slow delivery
    await webhooks.start()
    ctx["webhooks"] = webhooks
    log.info(
        "worker.started",
        extra={
            "concurrency": settings.worker_concurrency,
            "claimAheadSeconds": settings.worker_claim_ahead_seconds,
            "sweepIntervalSeconds": settings.worker_sweep_interval_seconds,
            "leaseSeconds": settings.lease_seconds,
        },
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop claiming, let in-flight steps finish within the grace period (idempotent)."""
    delivery: DeliveryLoop | None = ctx.pop("delivery", None)
    if delivery is None:
        return
    grace = ctx.get("shutdown_grace_seconds", SHUTDOWN_GRACE_SECONDS)
    webhooks: WebhookSender | None = ctx.pop("webhooks", None)
    await asyncio.gather(
        delivery.stop(grace_seconds=grace),
        webhooks.stop(grace_seconds=grace) if webhooks is not None else asyncio.sleep(0),
    )
    if ctx.pop("owns_http", False):
        await ctx.pop("http").aclose()
    log.info("worker.stopped")


async def wake_delivery(ctx: dict[str, Any]) -> None:
    """arq job (wakeup.wake_worker enqueues it after a commit): this worker sweeps once the job is done."""
    ctx[_SWEEP_AFTER_JOB] = True


async def sweep_after_wake_up(ctx: dict[str, Any]) -> None:
    """arq's after_job_end hook: the wake-up's sweep starts only now, after arq deleted the job.

    A publish whose enqueue arq refused (this job was queued or running) committed before that
    deletion, so this sweep sees its post; a publish committed later enqueues a job of its own.
    """
    delivery: DeliveryLoop | None = ctx.get("delivery")
    if ctx.get(_SWEEP_AFTER_JOB) and delivery is not None:
        delivery.wake()


class WorkerSettings:
    """arq settings; `create_crier_worker()` adds the Redis connection from Crier's settings."""

    functions = [func(wake_delivery, name=WAKE_JOB, timeout=10)]
    cron_jobs = CRON_JOBS
    queue_name = QUEUE_NAME
    on_startup = startup
    on_shutdown = shutdown
    after_job_end = sweep_after_wake_up
    health_check_interval = HEALTH_CHECK_INTERVAL_SECONDS
    health_check_key = HEALTH_CHECK_KEY
    max_jobs = 8  # the wake-up never waits behind the housekeeping crons
    job_timeout = 120
    keep_result = 0  # nobody reads results, and a kept one would refuse the next wake-up (same job id)
    poll_delay = POLL_SECONDS


class CrierWorker(Worker):
    """arq's Worker, made to put delivery first: Redis outages never stop or delay delivery."""

    async def main(self) -> None:
        # Overridden because arq's main gives up when Redis is unreachable; delivery needs no Redis.
        await startup(self.ctx)
        down = False
        while True:
            try:
                await super().main()
                return
            except (RedisError, OSError) as exc:
                if not down:
                    log.warning(
                        "redis unavailable: arq jobs and cron paused, delivery goes on",
                        extra={"error": type(exc).__name__},
                    )
                    down = True
                await asyncio.sleep(REDIS_RETRY_SECONDS)

    async def close(self) -> None:
        # Overridden because arq's close skips on_shutdown when Redis is down; the graceful stop must not.
        await shutdown(self.ctx)
        try:
            await super().close()
        except (RedisError, OSError, asyncio.CancelledError) as exc:
            log.warning("worker closed without cleaning up Redis", extra={"error": type(exc).__name__})


def redis_settings(url: str | None = None) -> RedisSettings:
    """arq's connection settings from REDIS_URL, failing fast (the loop retries, not create_pool)."""
    settings = RedisSettings.from_dsn(url or get_settings().required_redis_url())
    return dataclasses.replace(settings, conn_timeout=1, conn_retries=0)


def create_crier_worker(**overrides: Any) -> CrierWorker:
    """The worker `crier worker` runs; tests pass overrides (ctx, handle_signals, ...)."""
    options = {key: value for key, value in vars(WorkerSettings).items() if not key.startswith("_")}
    options["redis_settings"] = redis_settings()
    options.update(overrides)
    return CrierWorker(**options)


def run_worker() -> None:
    """Entry point of `crier worker`: run until SIGTERM/SIGINT."""
    configure_logging(get_settings().log_level)
    # arq logs two INFO lines per job, and wake-ups come many a second under load; its warnings stay.
    logging.getLogger("arq.worker").setLevel(logging.WARNING)
    # arq's Worker binds to the current event loop when it is built.
    asyncio.set_event_loop(asyncio.new_event_loop())
    create_crier_worker().run()


async def seconds_since_heartbeat(hostname: str) -> float | None:
    """Age of the freshest heartbeat a worker on `hostname` wrote to PostgreSQL (None: there is none)."""
    engine = make_engine(pooled=False)  # one-shot: `--check` runs in a process of its own
    try:
        async with engine.connect() as connection:
            return await repository.seconds_since_heartbeat(connection, hostname=hostname)
    finally:
        await engine.dispose()


def check_health() -> int:
    """Entry point of `crier worker --check`: 0 when a worker on this host swept PostgreSQL recently.

    The heartbeat lives where the truth is: a worker that delivers from PostgreSQL while Redis is down
    is healthy; one whose sweeps fail (PostgreSQL unreachable) stops writing it and goes unhealthy.
    """
    try:
        age = asyncio.run(seconds_since_heartbeat(socket.gethostname()))
    except Exception as exc:  # PostgreSQL unreachable: the check cannot vouch for any worker
        print(f"worker health unknown: {type(exc).__name__}", file=sys.stderr)
        return 1
    healthy = age is not None and age < HEALTHY_SWEEP_AGE_SECONDS
    if healthy:
        print(f"worker healthy (swept {age:.0f} s ago)", file=sys.stderr)
    elif age is None:
        print("no worker on this host has swept PostgreSQL", file=sys.stderr)
    else:
        print(f"no sweep from a worker on this host for {age:.0f} s", file=sys.stderr)
    return 0 if healthy else 1
