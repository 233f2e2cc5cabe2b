"""The API's wake-up push: best effort, one log line per Redis outage, pushes coalesced under load."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from crier.core import redis as crier_redis
from crier.core.redis import get_redis
from crier.delivery import wakeup
from crier.delivery.wakeup import WAKE_KEY, wake_worker


async def test_a_redis_outage_is_logged_once_and_its_end_once(redis_url, monkeypatch, caplog):
    monkeypatch.setattr(wakeup.outage, "down", False)
    await crier_redis.close_redis()
    monkeypatch.setattr(
        crier_redis, "_client", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    )
    with caplog.at_level("INFO", logger="crier.delivery.wakeup"):
        for _ in range(5):
            await wake_worker()  # never raises
        await crier_redis.close_redis()  # Redis is back
        for _ in range(2):
            await wake_worker()

    messages = [record.getMessage() for record in caplog.records if record.name == "crier.delivery.wakeup"]
    assert [m.split(":")[0] for m in messages] == ["redis unavailable", "redis available again"]
    assert await get_redis().llen(WAKE_KEY) >= 1
    await get_redis().delete(WAKE_KEY)


async def test_concurrent_wake_ups_make_at_most_two_pushes(redis_url, monkeypatch):
    pushes = 0
    real_push = wakeup._push

    async def counted_push():
        nonlocal pushes
        pushes += 1
        await asyncio.sleep(0.05)  # the push is on its way while the other publishes commit
        await real_push()

    monkeypatch.setattr(wakeup, "_push", counted_push)
    await asyncio.gather(*(wake_worker() for _ in range(20)))

    assert pushes == 2  # the first, and one after it for every commit that came meanwhile
    assert await get_redis().llen(WAKE_KEY) == 2
    await get_redis().delete(WAKE_KEY)
