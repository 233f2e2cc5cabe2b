"""SQL of the delivery_attempts table: one row per try at delivering a post."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crier.models import DeliveryAttempt

# Per post: the open attempt (ended_at IS NULL) is updated; without one a new attempt is numbered
# after the last. One statement for every step of a batch (delivery.writes): each post's runner is its
# only writer (every step is fenced), so a post appears at most once per batch.
_RECORD = text("""
    WITH w AS (
        SELECT * FROM unnest(CAST(:post_ids AS text[]), CAST(:started_ats AS timestamptz[]),
                             CAST(:steps AS text[]), CAST(:outcomes AS text[]), CAST(:errors AS text[]),
                             CAST(:ends AS boolean[]))
                      AS w(post_id, started_at, step, outcome, error, ends)
    ),
    open_attempt AS (
        UPDATE delivery_attempts AS a
        SET step = w.step, outcome = w.outcome,
            error = CASE WHEN w.outcome IN ('published', 'draft') THEN NULL
                         ELSE coalesce(CAST(w.error AS jsonb), a.error) END,
            ended_at = CASE WHEN w.ends THEN now() ELSE NULL END
        FROM w
        WHERE a.scheduled_post_id = w.post_id AND a.ended_at IS NULL
        RETURNING a.scheduled_post_id
    )
    INSERT INTO delivery_attempts (scheduled_post_id, number, started_at, ended_at, step, outcome, error)
    SELECT w.post_id,
           coalesce((SELECT max(d.number) FROM delivery_attempts AS d WHERE d.scheduled_post_id = w.post_id), 0) + 1,
           w.started_at, CASE WHEN w.ends THEN now() ELSE NULL END, w.step, w.outcome, CAST(w.error AS jsonb)
    FROM w
    WHERE w.post_id NOT IN (SELECT scheduled_post_id FROM open_attempt)
""")


async def journals_of(
    session: AsyncSession | AsyncConnection, post_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The posts' journals as committed."""
    rows = await session.execute(
        text("SELECT id, journal FROM scheduled_posts WHERE id = ANY(CAST(:ids AS text[]))"),
        {"ids": post_ids},
    )
    return {row.id: dict(row.journal or {}) for row in rows}


async def record_steps(session: AsyncSession | AsyncConnection, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Update each post's open attempt, or open its next one, with the step just done ({post_id,
    started_at, step, outcome, error, ends} each); returns nothing per post."""
    await session.execute(
        _RECORD,
        {
            "post_ids": [row["post_id"] for row in rows],
            "started_ats": [row["started_at"] for row in rows],
            "steps": [row["step"] for row in rows],
            "outcomes": [row["outcome"] for row in rows],
            "errors": [json.dumps(row["error"]) if row["error"] is not None else None for row in rows],
            "ends": [row["ends"] for row in rows],
        },
    )
    return {}


async def list_attempts(session: AsyncSession, *, post_id: str) -> list[DeliveryAttempt]:
    """Every attempt of the post, oldest first."""
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.scheduled_post_id == post_id)
        .order_by(DeliveryAttempt.number)
    )
    return list(rows)
