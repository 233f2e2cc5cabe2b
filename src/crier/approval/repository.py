"""SQL of approval: the first-N counter and the stash (scheduled_posts rows awaiting approval)."""

from __future__ import annotations

from sqlalchemy import Cast, Row, Text, Update, cast, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.sql import any_of
from crier.core.vocabulary import PostStatus
from crier.models import Project, ScheduledPost
from crier.webhooks.outbox import POST_EVENT_COLUMNS, post_event_ctes

# These statements never touch rows loaded as objects: no identity-map bookkeeping needed.
_PLAIN = {"synchronize_session": False}


def _text(value: str) -> Cast[str]:
    # jsonb_build_object takes "any": the parameter needs an explicit type for the server.
    return cast(literal(value), Text)


async def count_approval(session: AsyncSession, *, project_id: str) -> None:
    """One more approval toward first-N, never past the threshold."""
    # PostgreSQL re-checks the WHERE on the latest row version once it holds the row lock, so
    # concurrent approvals serialize here and the last ones find the threshold reached.
    await session.execute(
        update(Project)
        .where(
            Project.id == project_id,
            Project.first_n_posts_blocked.is_not(None),
            Project.current_blocked_count < Project.first_n_posts_blocked,
        )
        .values(current_blocked_count=Project.current_blocked_count + 1),
        execution_options=_PLAIN,
    )


async def lock_stash(session: AsyncSession, *, container_id: str) -> list[Row[str, str, str]]:
    """The container's stashed targets in submission order, locked against a concurrent cancel."""
    return list(
        await session.execute(
            select(ScheduledPost.id, ScheduledPost.social_account_id, ScheduledPost.mode)
            .where(
                ScheduledPost.container_id == container_id,
                ScheduledPost.status == PostStatus.BLOCKED_ON_APPROVAL,
            )
            .order_by(ScheduledPost.created_at, ScheduledPost.batch_position, ScheduledPost.id)
            .with_for_update()
        )
    )


async def promote(session: AsyncSession, *, post_ids: list[str]) -> None:
    """Stashed → scheduled under the same ids; a scheduledFor already past is due at once."""
    await _with_events(
        update(ScheduledPost)
        .where(ScheduledPost.id == any_of(post_ids), ScheduledPost.status == PostStatus.BLOCKED_ON_APPROVAL)
        .values(
            status=PostStatus.SCHEDULED,
            due_at=func.greatest(ScheduledPost.scheduled_for, func.now()),
            updated_at=func.now(),
            event_sequence=ScheduledPost.event_sequence + 1,
        ),
        session,
    )


async def cancel(session: AsyncSession, *, post_ids: list[str], code: str, message: str) -> None:
    """Stashed → canceled, with `lastError` telling the partner why."""
    await _with_events(
        update(ScheduledPost)
        .where(ScheduledPost.id == any_of(post_ids), ScheduledPost.status == PostStatus.BLOCKED_ON_APPROVAL)
        .values(
            status=PostStatus.CANCELED,
            canceled_at=func.now(),
            due_at=None,
            updated_at=func.now(),
            event_sequence=ScheduledPost.event_sequence + 1,
            last_error=func.jsonb_build_object(
                "code", _text(code), "message", _text(message), "platform", ScheduledPost.platform
            ),
        ),
        session,
    )


async def _with_events(change: Update, session: AsyncSession) -> None:
    """Run a status change of posts together with its webhook events, in one statement (issue 11)."""
    changed = change.returning(*(ScheduledPost.__table__.c[name] for name in POST_EVENT_COLUMNS)).cte(
        "changed"
    )
    await session.execute(select(changed.c.id).add_cte(changed, *post_event_ctes()))
