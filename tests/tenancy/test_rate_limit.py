"""Per-key rate limiting in Redis: 429 RATE_LIMITED with Retry-After, and failing open without Redis."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from crier.core import redis as crier_redis
from crier.core.settings import get_settings
from crier.tenancy import ratelimit


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    """The limiter's clock stands mid-window: a test's requests never straddle a minute boundary
    (on a loaded machine, 41 requests can take long enough to start a fresh window)."""
    now = time.time()
    middle = now - now % ratelimit.WINDOW_SECONDS + ratelimit.WINDOW_SECONDS / 2
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: middle))


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 3)


async def test_requests_past_the_limit_get_429_with_retry_after(client, tenant, limit_of_three):
    answers = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused.json()["error"]["details"]["limit"] == 3
    assert 1 <= int(refused.headers["retry-after"]) <= 61


async def test_each_key_has_its_own_window(client, admin, tenant, limit_of_three):
    other_key = await admin.api_key(tenant.organization["id"])
    for _ in range(3):
        await client.get("/v1/social-accounts", headers=tenant.headers)

    response = await client.get("/v1/social-accounts", headers={"X-Api-Key": other_key["key"]})

    assert response.status_code == 200


async def test_a_redis_outage_never_blocks_requests(client, tenant, limit_of_three, monkeypatch):
    from redis.asyncio import Redis

    await crier_redis.close_redis()
    monkeypatch.setattr(
        crier_redis, "_client", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    )
    answers = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    monkeypatch.setattr(crier_redis, "_client", None)


@pytest.fixture
async def black_holed_redis(monkeypatch):
    """Redis at an address that accepts connections and never answers (a black-holed network path)."""
    import asyncio

    from redis.asyncio import Redis

    async def swallow(reader, writer):
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await crier_redis.close_redis()
    monkeypatch.setattr(
        crier_redis,
        "_client",
        Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5, socket_timeout=0.5),
    )
    yield
    await crier_redis.close_redis()
    server.close()


async def test_no_database_connection_is_held_while_the_limiter_waits_for_redis(
    client, tenant, black_holed_redis, limit_of_three
):
    import asyncio

    from crier.core.db import get_engine

    pool = get_engine().sync_engine.pool
    request = asyncio.create_task(client.get("/v1/social-accounts", headers=tenant.headers))
    await asyncio.sleep(0.25)  # the limiter now waits up to 0.5 s for an answer that never comes
    held_while_waiting = pool.checkedout()
    response = await request

    assert held_while_waiting == 0
    assert response.status_code == 200


async def test_a_redis_outage_is_logged_once_and_its_end_once(
    client, tenant, limit_of_three, monkeypatch, caplog
):
    from redis.asyncio import Redis

    from crier.tenancy import ratelimit

    monkeypatch.setattr(ratelimit.outage, "down", False)
    await crier_redis.close_redis()
    monkeypatch.setattr(
        crier_redis, "_client", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    )
    with caplog.at_level("INFO", logger="crier.tenancy.ratelimit"):
        during = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(5)]
        monkeypatch.setattr(crier_redis, "_client", None)  # Redis is back
        after = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(2)]

    messages = [record.getMessage() for record in caplog.records if record.name == "crier.tenancy.ratelimit"]
    assert {a.status_code for a in during + after} == {200}
    assert [m.split(":")[0] for m in messages] == ["redis unavailable", "redis available again"]


async def test_far_below_the_limit_requests_reach_redis_a_batch_at_a_time(client, tenant, monkeypatch):
    from crier.core.redis import get_redis
    from crier.tenancy import ratelimit

    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1000)
    for _ in range(10):
        assert (await client.get("/v1/social-accounts", headers=tenant.headers)).status_code == 200

    key_id = tenant.key["id"]
    counters = [key async for key in get_redis().scan_iter(f"crier:rate:{key_id}:*")]
    counts = [int(await get_redis().get(key)) for key in counters]
    assert counts == [1]  # the first request of the window; the next nine wait for the batch
    assert ratelimit._windows[key_id].pending == 9


async def test_past_half_the_limit_every_request_is_counted_and_the_limit_is_exact(
    client, tenant, monkeypatch
):
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 40)
    answers = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(41)]

    assert [a.status_code for a in answers] == [200] * 40 + [429]


async def test_concurrent_requests_far_below_the_limit_share_their_calls_to_redis(servers, monkeypatch):
    import asyncio

    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1_000_000)
    calls = []
    real_script = ratelimit.get_script

    def counting_script(source):
        script = real_script(source)

        def call(**kwargs):
            calls.append(kwargs["args"][1])  # how many requests this call adds
            return script(**kwargs)

        return call

    monkeypatch.setattr(ratelimit, "get_script", counting_script)
    await asyncio.gather(*(ratelimit.enforce_rate_limit("key_concurrent") for _ in range(200)))
    while ratelimit._windows["key_concurrent"].adding is not None:  # a batch still on its way
        await asyncio.sleep(0.01)

    assert calls[0] == 1  # the window's first request asks for the count; the others wait for its answer
    assert len(calls) <= 1 + 200 // ratelimit.BATCH  # then a batch at a time, never a call per request
    window = ratelimit._windows["key_concurrent"]
    assert sum(calls) + window.pending == 200  # every request is counted, or is about to be


async def test_far_below_the_limit_no_request_waits_for_redis(client, tenant, monkeypatch):
    import asyncio

    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1000)
    assert (await client.get("/v1/social-accounts", headers=tenant.headers)).status_code == 200  # the count
    answered = asyncio.Event()

    async def slow_add(window, counter, adding):
        await answered.wait()  # Redis answers only once every request below has been served
        return window.known + adding

    monkeypatch.setattr(ratelimit, "_add", slow_add)
    for _ in range(2 * ratelimit.BATCH):
        assert (await client.get("/v1/social-accounts", headers=tenant.headers)).status_code == 200
    answered.set()
