"""An attempt's closing line commits with the post's state change, in the same statement: never after."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crier.delivery import attempts, repository
from crier.delivery.runner import run_claimed_post
from crier.platforms.base import Outcome, PlatformError
from tests.delivery.conftest import claim_one, published, retryable, terminal, tuned


async def post_and_attempts(post_id: str) -> tuple[str, list[tuple[str, bool, str]]]:
    """The post's status and its attempts (outcome, ended, step), read in one snapshot."""
    from crier.core.db import get_sessionmaker

    async with get_sessionmaker()() as db:
        rows = (
            await db.execute(
                text(
                    "SELECT sp.status, a.outcome, a.ended_at IS NOT NULL AS ended, a.step "
                    "FROM scheduled_posts AS sp LEFT JOIN delivery_attempts AS a ON a.scheduled_post_id = sp.id "
                    "WHERE sp.id = :id ORDER BY a.number"
                ),
                {"id": post_id},
            )
        ).all()
    return rows[0].status, [(row.outcome, row.ended, row.step) for row in rows if row.outcome is not None]


@pytest.fixture
def separate_history_lost(monkeypatch):
    """The best-effort history path writes nothing, as if the worker died right after the state change."""

    async def lost(**_: object) -> None:
        return None

    monkeypatch.setattr(attempts, "record_step", lost)


QUOTA = PlatformError("QUOTA_DEFERRED", "The daily limit is reached.", "tiktok")


@pytest.mark.parametrize(
    ("outcome", "status", "attempt_outcome"),
    [
        (published(), "published", "published"),
        (Outcome.draft("v_inbox_1"), "draft", "draft"),
        (terminal(), "failed", "failed"),
        (Outcome.deferred(QUOTA, 3600), "scheduled", "deferred"),
        (retryable(retry_after=30), "publishing", "retrying"),
    ],
)
async def test_the_closing_line_is_written_by_the_state_change_itself(
    make_post, fake, http, separate_history_lost, outcome, status, attempt_outcome
):
    post_id = await make_post(mode="draft" if status == "draft" else "publish")
    claim = await claim_one()
    await run_claimed_post(claim=claim, http=http, settings=tuned(), adapter_for=fake(outcome).factory)

    # No separate write ran: the line (opening the attempt itself) came with the post's change.
    assert await post_and_attempts(post_id) == (status, [(attempt_outcome, True, "not_started")])


async def test_the_closing_line_ends_the_attempt_its_opening_line_began(make_post, fake, http):
    post_id = await make_post()
    adapter = fake(Outcome.processing(), retryable(retry_after=30))
    await run_claimed_post(claim=await claim_one(), http=http, settings=tuned(), adapter_for=adapter.factory)
    assert await post_and_attempts(post_id) == ("publishing", [("retrying", True, "not_started")])


async def test_a_lost_fence_writes_neither_the_change_nor_the_line(make_post):
    post_id = await make_post()
    claim = await claim_one()
    line = {
        "post_id": post_id,
        "started_at": claim.claimed_at,
        "step": "not_started",
        "outcome": "failed",
        "error": {"code": "SPAM_RISK", "message": "refused", "platform": "tiktok"},
        "ends": True,
    }
    stale = claim.fence + 1
    for write in (repository.mark_failed, repository.schedule_next_step):
        extra = (
            {"error": line["error"]}
            if write is repository.mark_failed
            else {"due_in": 5, "hold_lease": False}
        )
        kept = await repository.run_statements(
            lambda db, write=write, extra=extra: write(
                db, post_id=post_id, fence=stale, attempt=line, **extra
            )
        )
        assert kept is False
    delivered = await repository.run_statements(
        lambda db: repository.mark_delivered_many(
            db,
            [
                {
                    "post_id": post_id,
                    "fence": stale,
                    "status": "published",
                    "external_id": "1",
                    "external_url": None,
                    "attempt": line,
                }
            ],
        )
    )
    assert delivered == {}
    assert await post_and_attempts(post_id) == ("publishing", [])
