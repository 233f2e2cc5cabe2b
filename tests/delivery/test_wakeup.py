"""The API's wake-up: one deduplicated arq job, best effort, one log line per Redis outage, coalesced under load."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis

from crier.core import redis as crier_redis
from crier.core.redis import get_redis
from crier.delivery import wakeup
from crier.delivery.wakeup import QUEUE_NAME, WAKE_JOB, WAKE_JOB_ID, wake_worker
from tests.support.wakeups import forget_wake_up, wake_up_queued


async def test_a_redis_outage_is_logged_once_and_its_end_once(redis_url, monkeypatch, caplog):
    monkeypatch.setattr(wakeup.outage, "down", False)
    await crier_redis.close_redis()
    monkeypatch.setattr(
        crier_redis, "_client", ArqRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    )
    with caplog.at_level("INFO", logger="crier.delivery.wakeup"):
        for _ in range(5):
            await wake_worker()  # never raises
        await crier_redis.close_redis()  # Redis is back
        await forget_wake_up()
        for _ in range(2):
            await wake_worker()

    messages = [record.getMessage() for record in caplog.records if record.name == "crier.delivery.wakeup"]
    assert [m.split(":")[0] for m in messages] == ["redis unavailable", "redis available again"]
    assert await wake_up_queued()
    await forget_wake_up()


async def test_a_burst_of_wake_ups_queues_one_job(redis_url):
    await forget_wake_up()
    for _ in range(5):
        await wake_worker()
    assert await wake_up_queued()
    # The job has one fixed id: while it waits for a worker, arq refuses another.
    assert await get_redis().enqueue_job(WAKE_JOB, _job_id=WAKE_JOB_ID, _queue_name=QUEUE_NAME) is None
    await forget_wake_up()


async def test_concurrent_wake_ups_make_at_most_two_enqueues(redis_url, monkeypatch):
    enqueues = 0
    real_enqueue = wakeup._enqueue

    async def counted_enqueue():
        nonlocal enqueues
        enqueues += 1
        await asyncio.sleep(0.05)  # the enqueue is on its way while the other publishes commit
        await real_enqueue()

    monkeypatch.setattr(wakeup, "_enqueue", counted_enqueue)
    await forget_wake_up()
    await asyncio.gather(*(wake_worker() for _ in range(20)))

    assert enqueues == 2  # the first, and one after it for every commit that came meanwhile
    assert await wake_up_queued()
    await forget_wake_up()
