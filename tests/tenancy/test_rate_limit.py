"""Per-key rate limiting in Redis: 429 RATE_LIMITED with Retry-After, and failing open without Redis."""

from __future__ import annotations

import pytest

from crier.core import redis as crier_redis
from crier.core.settings import get_settings


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
    monkeypatch.setattr(crier_redis, "_client", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    answers = [await client.get("/v1/social-accounts", headers=tenant.headers) for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    monkeypatch.setattr(crier_redis, "_client", None)
