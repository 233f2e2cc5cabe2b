"""SQL of the delivery_attempts table: one row per try at delivering a post."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crier.models import DeliveryAttempt

_JSON = JSONB(none_as_null=True)

# The open attempt (ended_at IS NULL) is updated; without one a new attempt is numbered after the
# last. One statement per step: the post's runner is the only writer (every step is fenced).
_RECORD = text("""
    WITH open_attempt AS (
        UPDATE delivery_attempts
        SET step = :step, outcome = :outcome,
            error = CASE WHEN :outcome IN ('published', 'draft') THEN NULL ELSE coalesce(:error, error) END,
            ended_at = CASE WHEN :ends THEN now() ELSE NULL END
        WHERE scheduled_post_id = :post_id AND ended_at IS NULL
        RETURNING id
    )
    INSERT INTO delivery_attempts (scheduled_post_id, number, started_at, ended_at, step, outcome, error)
    SELECT :post_id,
           coalesce((SELECT max(number) FROM delivery_attempts WHERE scheduled_post_id = :post_id), 0) + 1,
           :started_at, CASE WHEN :ends THEN now() ELSE NULL END, :step, :outcome, :error
    WHERE NOT EXISTS (SELECT 1 FROM open_attempt)
""").bindparams(bindparam("error", type_=_JSON))


async def journal_of(session: AsyncSession, *, post_id: str) -> dict[str, Any]:
    """The post's journal as committed."""
    journal = await session.scalar(
        text("SELECT journal FROM scheduled_posts WHERE id = :id"), {"id": post_id}
    )
    return dict(journal or {})


async def record_step(
    session: AsyncSession,
    *,
    post_id: str,
    started_at: Any,
    step: str,
    outcome: str,
    error: dict[str, str] | None,
    ends: bool,
) -> None:
    """Update the post's open attempt, or open the next one, with the step just done."""
    await session.execute(
        _RECORD,
        {
            "post_id": post_id,
            "started_at": started_at,
            "step": step,
            "outcome": outcome,
            "error": error,
            "ends": ends,
        },
    )


async def list_attempts(session: AsyncSession, *, post_id: str) -> list[DeliveryAttempt]:
    """Every attempt of the post, oldest first."""
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.scheduled_post_id == post_id)
        .order_by(DeliveryAttempt.number)
    )
    return list(rows)
