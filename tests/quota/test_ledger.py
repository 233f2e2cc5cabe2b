"""The PostgreSQL ledger: paced slots keep every window within the limit, across posts and workers."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from crier.quota.ledger import PostgresLedger, request_transaction
from tests.publishing.helpers import sql

WINDOW = 0.6


async def test_the_first_limit_calls_go_at_once_and_the_next_waits_for_the_window(tenant, session):
    ledger = PostgresLedger(account_id=tenant.tiktok["id"], post_id=None)

    waits = [
        await ledger.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=WINDOW)
        for _ in range(7)
    ]

    assert waits[:6] == [0.0] * 6 and 0 < waits[6] <= WINDOW
    times = [
        row.slot_at for row in await sql(session, "SELECT slot_at FROM platform_call_slots ORDER BY slot_at")
    ]
    assert (times[6] - times[0]).total_seconds() >= WINDOW - 1e-3


async def test_concurrent_posts_never_share_a_slot(tenant, session):
    ledgers = [PostgresLedger(account_id=tenant.tiktok["id"], post_id=f"sp_{i}") for i in range(12)]

    waits = await asyncio.gather(
        *(
            ledger.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0)
            for ledger in ledgers
        )
    )

    assert sorted(waits)[:6] == [0.0] * 6 and all(wait > 0 for wait in sorted(waits)[6:])
    rows = await sql(session, "SELECT slot_at FROM platform_call_slots ORDER BY slot_at")
    times = [row.slot_at for row in rows]
    for index in range(6, len(times)):  # every 7th slot is a full window after the 1st: ≤ 6 per window
        assert (times[index] - times[index - 6]).total_seconds() >= WINDOW - 1e-3


async def test_a_deferred_post_finds_its_reserved_slot_when_it_comes_back(tenant, session):
    account = tenant.tiktok["id"]
    for _ in range(6):
        await PostgresLedger(account_id=account, post_id=None).pace(
            "tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0
        )
    waiting = PostgresLedger(account_id=account, post_id="sp_late")

    first = await waiting.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0)
    [reserved] = await sql(
        session, "SELECT scheduled_post_id FROM platform_call_slots WHERE scheduled_post_id IS NOT NULL"
    )
    await asyncio.sleep(first)
    again = await waiting.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0)

    assert first > 0 and reserved.scheduled_post_id == "sp_late" and again == 0.0
    assert len(await sql(session, "SELECT 1 FROM platform_call_slots")) == 7  # the same slot, taken


async def test_sent_counts_only_calls_made_within_the_window(tenant):
    ledger = PostgresLedger(account_id=tenant.tiktok["id"], post_id=None)
    await ledger.log_sent("tiktok.direct_posts")
    await ledger.log_sent("tiktok.direct_posts")

    sent, frees = await ledger.sent("tiktok.direct_posts", window_seconds=86400)

    assert sent == 2 and 86399 < frees <= 86400


async def test_a_stored_quota_is_counted_between_asks(tenant):
    ledger = PostgresLedger(account_id=tenant.instagram["id"], post_id=None)
    await ledger.save_quota(
        "instagram.content_publishing", limit=50, used=10, window_seconds=86400, source="platform"
    )
    await ledger.count("instagram.content_publishing")

    state = await ledger.quota("instagram.content_publishing")

    assert (state.limit, state.used, state.source, state.window_seconds) == (50, 11, "platform", 86400)
    assert 0 <= state.age_seconds < 5


async def test_a_post_back_too_late_for_its_reservation_takes_a_fresh_slot(tenant, session):
    account = tenant.tiktok["id"]
    for _ in range(6):
        await PostgresLedger(account_id=account, post_id=None).pace(
            "tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0
        )
    late = PostgresLedger(account_id=account, post_id="sp_late")
    reserved_wait = await late.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0)
    await asyncio.sleep(reserved_wait + 0.3)  # back 0.3 s after its slot

    wait = await late.pace(
        "tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=1, late_seconds=0.1
    )

    rows = await sql(session, "SELECT scheduled_post_id FROM platform_call_slots")
    assert wait == 0.0 and len(rows) == 7 and all(row.scheduled_post_id is None for row in rows)


async def test_two_workers_batching_at_once_never_share_a_slot(tenant, session):
    # Each transaction factory has its own batches, as two worker processes do: their batches meet
    # only at the advisory locks.
    @asynccontextmanager
    async def other_worker():
        async with request_transaction() as other:
            yield other

    ledgers = [
        PostgresLedger(
            account_id=tenant.tiktok["id"],
            post_id=f"sp_{i}",
            transaction=request_transaction if i % 2 else other_worker,
        )
        for i in range(18)
    ]

    waits = await asyncio.gather(
        *(
            ledger.pace("tiktok.init", limit=6, window_seconds=WINDOW, may_wait_seconds=0)
            for ledger in ledgers
        )
    )

    assert sorted(waits)[:6] == [0.0] * 6 and all(wait > 0 for wait in sorted(waits)[6:])
    times = [
        row.slot_at for row in await sql(session, "SELECT slot_at FROM platform_call_slots ORDER BY slot_at")
    ]
    assert len(times) == 18
    for index in range(6, len(times)):
        assert (times[index] - times[index - 6]).total_seconds() >= WINDOW - 1e-3
