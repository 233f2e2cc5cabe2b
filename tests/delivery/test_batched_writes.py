"""Grouped writes and claims ahead: each row is fenced on its own claim, a post claimed ahead stays
`scheduled` until its instant, and a deadlock victim's statement runs again."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sqlalchemy.exc import DBAPIError

from crier.delivery import repository
from crier.delivery.writes import delivery_writes
from tests.delivery.conftest import claim_one, fetch, make_due


async def test_a_journal_batch_writes_the_held_rows_and_refuses_the_stale_one(make_post):
    held_id, stale_id = await make_post(), await make_post()
    async with repository.transaction() as db:
        claims = {
            claim.id: claim for claim in await repository.claim_due_posts(db, limit=10, lease_seconds=60)
        }
    await make_due(stale_id)
    taken_over = await claim_one()  # another worker took the stale one over

    writes = delivery_writes()
    kept = await asyncio.gather(
        writes.merge_journal(post_id=held_id, fence=claims[held_id].fence, handles={"a": 1}),
        writes.merge_journal(post_id=stale_id, fence=claims[stale_id].fence, handles={"a": 1}),
    )

    assert kept == [True, False]
    assert (await fetch(held_id)).journal == {"a": 1}
    assert (await fetch(stale_id)).journal == {} and taken_over.id == stale_id


async def test_a_renewal_leaves_a_released_post_released(make_post):
    post_id = await make_post()
    claim = await claim_one()
    async with repository.transaction() as db:
        assert await repository.schedule_next_step(
            db, post_id=post_id, fence=claim.fence, due_in=30, hold_lease=False
        )
        assert await repository.renew_leases(db, held={post_id: claim.fence}, lease_seconds=60) == set()
    row = await fetch(post_id)
    assert row.lease_expires_at is None and 29 <= (row.due_at - row.updated_at).total_seconds() <= 31


async def test_a_post_claimed_ahead_stays_scheduled_until_it_starts(make_post):
    post_id = await make_post(due_in=1.5)
    async with repository.transaction() as db:
        [claim] = await repository.claim_due_posts(db, limit=10, lease_seconds=60, ahead_seconds=2)
    row = await fetch(post_id)
    assert claim.claimed_ahead and row.status == "scheduled" and row.attempted_at is None
    assert row.lease_expires_at is not None  # under lease: no other worker takes it

    attempted_at = await delivery_writes().start(post_id=post_id, fence=claim.fence)

    row = await fetch(post_id)
    assert row.status == "publishing" and row.attempted_at == attempted_at


async def test_a_deadlock_victims_statement_runs_again():
    calls = []

    async def work(db):
        calls.append(1)
        if len(calls) == 1:
            raise DBAPIError("UPDATE ...", {}, SimpleNamespace(sqlstate="40P01"))
        return await db.scalar(repository.text("SELECT 1"))

    assert await repository.run_statements(work) == 1 and len(calls) == 2
