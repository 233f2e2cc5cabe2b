"""The worker process: sweep + arq wake-up jobs, concurrency, Redis outages, arq integration, graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from arq.worker import async_check_health, func

from crier.core import redis as crier_redis
from crier.core.redis import get_redis
from crier.delivery import worker as crier_worker
from crier.delivery.loop import DeliveryLoop
from crier.delivery.wakeup import QUEUE_NAME, WAKE_JOB, WAKE_JOB_ID, wake_worker
from crier.platforms.base import Outcome
from tests.delivery.conftest import FakeAdapter, fetch, published, tuned
from tests.support.wakeups import forget_wake_up

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
# arq 0.28 calls redis-py's deprecated close(); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def wait_for_status(post_id: str, status: str, *, within: float) -> float:
    """Seconds until the post reached `status` (fails after `within`)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if (await fetch(post_id)).status == status:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{post_id} is {(await fetch(post_id)).status!r}, not {status!r}, after {within}s")


def slow(seconds: float, started: asyncio.Event | None = None):
    async def step(job, journal):
        if started is not None:
            started.set()
        await asyncio.sleep(seconds)
        return published()

    return step


async def test_the_sweep_delivers_while_redis_is_unreachable(make_post, fake, http, monkeypatch):
    monkeypatch.setattr(
        crier_redis, "_client", ArqRedis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    )
    loop = DeliveryLoop(
        settings=tuned(worker_sweep_interval_seconds=0.2),
        http=http,
        adapter_for=fake(published()).factory,
    )
    await loop.start()
    try:
        post_id = await make_post()
        await wake_worker()  # never raises, even though nobody hears it
        await wait_for_status(post_id, "published", within=3)
    finally:
        await loop.stop(grace_seconds=1)


async def test_a_slow_account_does_not_hold_up_others(make_post, http):
    tiktok_started = asyncio.Event()
    adapters = {"tiktok": FakeAdapter([slow(3, tiktok_started)]), "instagram": FakeAdapter([published()])}
    loop = DeliveryLoop(
        settings=tuned(worker_sweep_interval_seconds=0.1, worker_concurrency=4),
        http=http,
        adapter_for=lambda job, **_: adapters[job.platform],
    )
    slow_post = await make_post(platform="tiktok", due_in=-2)
    await loop.start()
    try:
        await tiktok_started.wait()
        fast_post = await make_post(platform="instagram")
        await wait_for_status(fast_post, "published", within=2)
        assert (await fetch(slow_post)).status == "publishing"
    finally:
        await loop.stop(grace_seconds=5)
    assert (await fetch(slow_post)).status == "published"


async def test_stop_lets_in_flight_steps_finish_and_claims_nothing_new(make_post, http):
    started = asyncio.Event()
    loop = DeliveryLoop(
        settings=tuned(worker_sweep_interval_seconds=0.1),
        http=http,
        adapter_for=FakeAdapter([slow(0.5, started)]).factory,
    )
    in_flight = await make_post()
    await loop.start()
    await started.wait()
    stopping = asyncio.create_task(loop.stop(grace_seconds=5))
    await asyncio.sleep(0.05)
    later = await make_post()
    await stopping
    assert (await fetch(in_flight)).status == "published"
    assert (await fetch(later)).status == "scheduled"


async def test_a_step_past_the_grace_period_is_left_to_the_rescue(make_post, http):
    started = asyncio.Event()
    loop = DeliveryLoop(
        settings=tuned(worker_sweep_interval_seconds=0.1),
        http=http,
        adapter_for=FakeAdapter([slow(30, started)]).factory,
    )
    post_id = await make_post()
    await loop.start()
    await started.wait()
    await loop.stop(grace_seconds=0.2)
    row = await fetch(post_id)
    assert row.status == "publishing" and row.lease_expires_at is not None
    assert row.due_at == row.lease_expires_at


def worker_ctx(http, adapter, **changes):
    return {
        "settings": tuned(**changes),
        "http": http,
        "adapter_for": adapter.factory,
        "shutdown_grace_seconds": 5,
    }


async def run_arq_worker(**overrides):
    worker = crier_worker.create_crier_worker(handle_signals=False, **overrides)
    task = asyncio.create_task(worker.async_run())

    async def stop() -> None:
        worker.handle_sig(signal.SIGTERM)  # what arq does on SIGTERM: cancel the main task, then close()
        await asyncio.gather(task, return_exceptions=True)
        await worker.close()

    return worker, stop


async def test_a_wake_up_delivers_at_once_without_waiting_for_the_sweep(make_post, http):
    await forget_wake_up()
    _worker, stop = await run_arq_worker(
        ctx=worker_ctx(http, FakeAdapter([published()]), worker_sweep_interval_seconds=30)
    )
    try:
        await asyncio.sleep(0.5)  # the start-up sweep has run; the next tick is 30 s away
        for _ in range(2):  # a finished wake-up job leaves nothing behind that refuses the next one
            post_id = await make_post()
            await wake_worker()
            assert await wait_for_status(post_id, "published", within=3) < 1.5
    finally:
        await stop()


async def test_a_post_committed_while_the_wake_up_job_runs_is_not_missed(make_post, http):
    """arq refuses a wake-up while the job runs; the sweep that job starts comes after, so it sees the post."""
    await forget_wake_up()
    running, release = asyncio.Event(), asyncio.Event()

    async def held_wake_delivery(ctx):
        running.set()
        await release.wait()
        await crier_worker.wake_delivery(ctx)

    _worker, stop = await run_arq_worker(
        ctx=worker_ctx(http, FakeAdapter([published()]), worker_sweep_interval_seconds=30),
        functions=[func(held_wake_delivery, name=WAKE_JOB)],
    )
    try:
        await asyncio.sleep(0.5)  # the start-up sweep has run; the next tick is 30 s away
        await wake_worker()
        await asyncio.wait_for(running.wait(), 3)
        post_id = await make_post()
        refused = await get_redis().enqueue_job(WAKE_JOB, _job_id=WAKE_JOB_ID, _queue_name=QUEUE_NAME)
        assert refused is None  # what wake_worker() does after this commit: arq refuses the running id
        release.set()
        assert await wait_for_status(post_id, "published", within=3) < 1.5
    finally:
        release.set()
        await stop()


async def test_the_arq_worker_wakes_on_request_and_reports_health(make_post, http):
    _worker, stop = await run_arq_worker(
        ctx=worker_ctx(http, FakeAdapter([published()]), worker_sweep_interval_seconds=30)
    )
    try:
        await asyncio.sleep(0.5)
        post_id = await make_post()
        await wake_worker()
        await wait_for_status(post_id, "published", within=3)
        assert (
            await async_check_health(
                crier_worker.redis_settings(), crier_worker.HEALTH_CHECK_KEY, crier_worker.QUEUE_NAME
            )
            == 0
        )
        assert await asyncio.to_thread(crier_worker.check_health) == 0
    finally:
        await stop()
    assert await asyncio.to_thread(crier_worker.check_health) == 1  # a stopped worker clears its key


async def test_the_arq_worker_finishes_in_flight_steps_on_shutdown(make_post, http):
    started = asyncio.Event()
    _worker, stop = await run_arq_worker(
        ctx=worker_ctx(http, FakeAdapter([slow(1, started)]), worker_sweep_interval_seconds=0.1)
    )
    post_id = await make_post()
    await asyncio.wait_for(started.wait(), 5)
    await stop()
    assert (await fetch(post_id)).status == "published"


async def test_the_arq_worker_delivers_with_redis_down_from_the_start(make_post, http):
    ctx = worker_ctx(http, FakeAdapter([published()]), worker_sweep_interval_seconds=0.2)
    unreachable = crier_worker.redis_settings(UNREACHABLE_REDIS)
    _worker, stop = await run_arq_worker(ctx=ctx, redis_settings=unreachable)
    try:
        post_id = await make_post()
        await wait_for_status(post_id, "published", within=3)
    finally:
        await stop()
    assert await asyncio.to_thread(crier_worker.check_health) == 1


async def test_sigterm_lets_the_worker_process_finish_its_in_flight_step(make_post):
    """The real process: `run_worker()`-style arq worker, a real SIGTERM, a clean exit."""
    post_id = await make_post()
    script = Path(__file__).with_name("slow_worker.py")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"}
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await wait_for_status(post_id, "publishing", within=20)  # claimed; its step takes 2 s
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 20)
    finally:
        if process.poll() is None:
            process.kill()
    _, stderr = process.communicate()
    assert code == 0, stderr
    assert (await fetch(post_id)).status == "published", stderr
    assert '"msg": "worker.stopped"' in stderr


async def test_check_reports_a_worker_delivering_through_a_redis_outage_as_healthy(make_post, http):
    """The heartbeat is in PostgreSQL: Redis being down does not make a delivering worker unhealthy."""
    ctx = worker_ctx(http, FakeAdapter([published()]), worker_sweep_interval_seconds=0.2)
    _worker, stop = await run_arq_worker(
        ctx=ctx, redis_settings=crier_worker.redis_settings(UNREACHABLE_REDIS)
    )
    try:
        post_id = await make_post()
        await wait_for_status(post_id, "published", within=3)
        assert await asyncio.to_thread(crier_worker.check_health) == 0
    finally:
        await stop()


async def test_check_reports_a_worker_whose_last_sweep_is_old_as_unhealthy(session):
    from sqlalchemy import text

    await session.execute(
        text(
            "INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, seen_at) "
            "VALUES ('stuck', :host, 1, now() - interval '1 hour', now() - interval '2 minutes')"
        ),
        {"host": socket.gethostname()},
    )
    await session.commit()
    try:
        assert await asyncio.to_thread(crier_worker.check_health) == 1
    finally:
        await session.execute(text("DELETE FROM worker_heartbeats WHERE worker_id = 'stuck'"))
        await session.commit()


async def test_posts_waiting_for_a_poll_hold_no_slot_so_all_of_them_run_at_once(make_post, http):
    """Default settings: 60 posts each waiting 0.5 s for their poll are all in flight together."""
    posts = [await make_post() for _ in range(60)]
    order: list[str] = []

    def first_processing_then_published(job, journal):
        order.append("poll" if job.post_id in seen else "init")
        seen.add(job.post_id)
        return published() if order[-1] == "poll" else Outcome.processing()

    seen: set[str] = set()
    adapter = FakeAdapter([first_processing_then_published])
    loop = DeliveryLoop(
        settings=tuned(worker_sweep_interval_seconds=0.1),
        http=http,
        adapter_for=adapter.factory,
    )
    await loop.start()
    try:
        for post_id in posts:
            await wait_for_status(post_id, "published", within=10)
    finally:
        await loop.stop(grace_seconds=1)
    assert order == ["init"] * 60 + ["poll"] * 60  # no post's wait kept another from starting
