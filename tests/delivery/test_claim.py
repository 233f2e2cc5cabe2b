"""Claiming due posts: one statement, SKIP LOCKED, a lease that doubles as the rescue time, fencing."""

from __future__ import annotations

import asyncio

from crier.delivery import repository
from tests.delivery.conftest import claim_one, fetch, make_due


async def test_claim_takes_due_posts_only_and_stamps_the_lease(make_post):
    due = await make_post()
    await make_post(due_in=3600)  # scheduled for later
    await make_post(status="canceled")
    await make_post(status="blocked_on_approval")

    claim = await claim_one(lease_seconds=60)

    assert claim.id == due and claim.fence == 1 and claim.previous_status == "scheduled"
    assert not claim.rescued
    row = await fetch(due)
    assert row.status == "publishing" and row.fence == 1
    assert row.attempted_at is not None
    assert row.lease_expires_at == row.due_at  # the lease end is when the row is due again
    assert 59 <= (row.lease_expires_at - claim.claimed_at).total_seconds() <= 61


async def test_a_claimed_post_is_not_claimed_again_while_its_lease_runs(make_post):
    await make_post()
    await claim_one()
    async with repository.transaction() as db:
        assert await repository.claim_due_posts(db, limit=10, lease_seconds=60) == []


async def test_skip_locked_passes_over_a_row_another_claimer_is_taking(make_post):
    first, second = await make_post(due_in=-2), await make_post(due_in=-1)
    async with repository.transaction() as holder:  # claims `first` and keeps its transaction open
        held = await repository.claim_due_posts(holder, limit=1, lease_seconds=60)
        assert [claim.id for claim in held] == [first]
        async with repository.transaction() as other:
            taken = await repository.claim_due_posts(other, limit=10, lease_seconds=60)
        assert [claim.id for claim in taken] == [second]


async def test_concurrent_claimers_never_get_the_same_post(make_post):
    ids = {await make_post(due_in=-i) for i in range(1, 31)}

    async def claimer() -> list[str]:
        got: list[str] = []
        for _ in range(10):
            async with repository.transaction() as db:
                got += [claim.id for claim in await repository.claim_due_posts(db, limit=3, lease_seconds=60)]
            await asyncio.sleep(0)
        return got

    results = await asyncio.gather(*(claimer() for _ in range(4)))
    claimed = [post_id for result in results for post_id in result]
    assert len(claimed) == len(set(claimed)) == len(ids)
    assert set(claimed) == ids


async def test_an_expired_lease_makes_the_post_due_again_with_a_new_attempt(make_post):
    post_id = await make_post()
    await claim_one()
    await make_due(post_id)  # the worker died; its lease ran out

    rescue = await claim_one()

    assert rescue.fence == 2 and rescue.rescued


async def test_a_stale_attempts_write_is_ignored(make_post):
    post_id = await make_post()
    stale = await claim_one()
    await make_due(post_id)
    current = await claim_one()

    async with repository.transaction() as db:
        assert not await repository.mark_delivered(
            db,
            post_id=post_id,
            fence=stale.fence,
            status="published",
            external_id="x",
            external_url="https://x",
        )
        assert not await repository.merge_journal(db, post_id=post_id, fence=stale.fence, handles={"a": 1})
    row = await fetch(post_id)
    assert row.status == "publishing" and row.external_id is None and row.journal == {}

    async with repository.transaction() as db:
        assert await repository.merge_journal(db, post_id=post_id, fence=current.fence, handles={"a": 1})
        assert await repository.merge_journal(db, post_id=post_id, fence=current.fence, handles={"b": 2})
    assert (await fetch(post_id)).journal == {"a": 1, "b": 2}


async def test_writes_to_a_post_that_left_publishing_are_ignored(make_post):
    post_id = await make_post()
    claim = await claim_one()
    async with repository.transaction() as db:
        assert await repository.mark_failed(
            db,
            post_id=post_id,
            fence=claim.fence,
            error={"code": "X", "message": "m", "platform": "tiktok"},
        )
        assert not await repository.renew_lease(db, post_id=post_id, fence=claim.fence, lease_seconds=60)
    row = await fetch(post_id)
    assert row.status == "failed" and row.due_at is None and row.lease_expires_at is None
