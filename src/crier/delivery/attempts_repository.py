"""SQL of the delivery_attempts table: one row per try at delivering a post."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crier.models import DeliveryAttempt

# The attempt lines of a statement's `changed` CTE (its `id` column: the posts whose fenced write
# held), as more CTEs of that same statement: a line commits exactly when its post's change does, and
# a lost fence writes none. Per post: the open attempt (ended_at IS NULL) is updated; without one (its
# opening line was lost) a new attempt is numbered after the last. Each post's runner is its only
# writer (every step is fenced), so a post appears at most once per statement.
#
# It cannot fail for data reasons, so it never rolls back the change it rides with: the outcomes are
# attempt_outcome's (the CHECK's list), the step and started_at are never NULL, the error is the same
# JSON the post's lastError takes, the post exists (it was just updated), and a number another writer
# took meanwhile (a worker that lost the post, still writing its best-effort opening line) is taken over.
ATTEMPT_CTES = """
    attempt_rows AS (
        SELECT w.* FROM unnest(CAST(:attempt_post_ids AS text[]), CAST(:attempt_started_ats AS timestamptz[]),
                               CAST(:attempt_steps AS text[]), CAST(:attempt_outcomes AS text[]),
                               CAST(:attempt_errors AS text[]), CAST(:attempt_ends AS boolean[]))
                        AS w(post_id, started_at, step, outcome, error, ends)
        WHERE w.post_id IN (SELECT id FROM changed)
    ),
    attempt_updated AS (
        UPDATE delivery_attempts AS a
        SET step = w.step, outcome = w.outcome,
            error = CASE WHEN w.outcome IN ('published', 'draft') THEN NULL
                         ELSE coalesce(CAST(w.error AS jsonb), a.error) END,
            ended_at = CASE WHEN w.ends THEN now() ELSE NULL END
        FROM attempt_rows AS w
        WHERE a.scheduled_post_id = w.post_id AND a.ended_at IS NULL
        RETURNING a.scheduled_post_id
    ),
    attempt_opened AS (
        INSERT INTO delivery_attempts (scheduled_post_id, number, started_at, ended_at, step, outcome, error)
        SELECT w.post_id,
               coalesce((SELECT max(d.number) FROM delivery_attempts AS d WHERE d.scheduled_post_id = w.post_id),
                        0) + 1,
               w.started_at, CASE WHEN w.ends THEN now() ELSE NULL END, w.step, w.outcome, CAST(w.error AS jsonb)
        FROM attempt_rows AS w
        WHERE w.post_id NOT IN (SELECT scheduled_post_id FROM attempt_updated)
        ON CONFLICT (scheduled_post_id, number) DO UPDATE
        SET step = excluded.step, outcome = excluded.outcome, error = excluded.error, ended_at = excluded.ended_at
        RETURNING 1
    )
"""

# The best-effort lines (an attempt's opening step): not tied to a state change.
_RECORD = text(f"""
    WITH changed AS (SELECT unnest(CAST(:attempt_post_ids AS text[])) AS id), {ATTEMPT_CTES}
    SELECT count(*) FROM changed
""")


def attempt_params(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """ATTEMPT_CTES' parameters for these lines ({post_id, started_at, step, outcome, error, ends} each)."""
    return {
        "attempt_post_ids": [row["post_id"] for row in rows],
        "attempt_started_ats": [row["started_at"] for row in rows],
        "attempt_steps": [row["step"] for row in rows],
        "attempt_outcomes": [row["outcome"] for row in rows],
        "attempt_errors": [json.dumps(row["error"]) if row["error"] is not None else None for row in rows],
        "attempt_ends": [row["ends"] for row in rows],
    }


def closing_ctes(line: dict[str, Any]) -> tuple[str, dict[str, list[Any]]]:
    """ATTEMPT_CTES and their parameters for one line, for a statement written outside delivery."""
    return ATTEMPT_CTES, attempt_params([line])


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
    started_at, step, outcome, error, ends} each), in a statement of its own; returns nothing per post."""
    await session.execute(_RECORD, attempt_params(rows))
    return {}


async def list_attempts(session: AsyncSession, *, post_id: str) -> list[DeliveryAttempt]:
    """Every attempt of the post, oldest first."""
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.scheduled_post_id == post_id)
        .order_by(DeliveryAttempt.number)
    )
    return list(rows)
