"""SQL of scheduled posts: a locked read for cancel, and the keyset-paginated history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, literal, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.clock import utcnow
from crier.core.vocabulary import PostStatus
from crier.models import ScheduledPost
from crier.scheduled_posts.schemas import Filters
from crier.webhooks.outbox import record_post_events


async def find(
    session: AsyncSession, *, organization_id: str, post_id: str, for_update: bool = False
) -> ScheduledPost | None:
    statement = (
        select(ScheduledPost)
        .where(ScheduledPost.id == post_id, ScheduledPost.organization_id == organization_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        # The worker claims with FOR UPDATE SKIP LOCKED and re-checks the status, so a cancel and
        # a claim serialize on this lock: whichever comes second sees the other's outcome.
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def mark_canceled(session: AsyncSession, *, post: ScheduledPost) -> ScheduledPost:
    post.status = PostStatus.CANCELED
    post.canceled_at = utcnow()
    post.due_at = None
    post.event_sequence = ScheduledPost.event_sequence + 1
    await session.flush()
    await record_post_events(session, post_ids=[post.id])  # its post.canceled event, same transaction
    await session.refresh(post)
    return post


async def page(
    session: AsyncSession,
    *,
    organization_id: str,
    project_id: str,
    filters: Filters,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ScheduledPost]:
    """Up to `limit` posts after `after`, in (scheduled_for, id) order."""
    statement = page_statement(
        organization_id=organization_id, project_id=project_id, filters=filters, after=after, limit=limit
    )
    return list(await session.scalars(statement))


def page_statement(
    *, organization_id: str, project_id: str, filters: Filters, after: tuple[datetime, str] | None, limit: int
) -> Select[ScheduledPost]:
    """The history query (also what `make bench` EXPLAINs)."""
    # The row comparison is an index condition on ix_scheduled_posts_project_history: a deep page
    # is a range scan that starts at the cursor, costing what the first page does (no OFFSET).
    statement = select(ScheduledPost).where(
        ScheduledPost.project_id == project_id, ScheduledPost.organization_id == organization_id
    )
    for column, value in (
        (ScheduledPost.status, filters.status),
        (ScheduledPost.platform, filters.platform),
        (ScheduledPost.mode, filters.mode),
        (ScheduledPost.container_id, filters.container_id),
        (ScheduledPost.social_account_id, filters.social_account_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filters.scheduled_from is not None:
        statement = statement.where(ScheduledPost.scheduled_for >= filters.scheduled_from)
    if filters.scheduled_to is not None:
        statement = statement.where(ScheduledPost.scheduled_for < filters.scheduled_to)
    if filters.q:
        query = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), literal(filters.q))
        statement = statement.where(ScheduledPost.search_vector.op("@@")(query))
    if after is not None:
        statement = statement.where(
            tuple_(ScheduledPost.scheduled_for, ScheduledPost.id)
            > tuple_(literal(after[0]), literal(after[1]))
        )
    return statement.order_by(ScheduledPost.scheduled_for, ScheduledPost.id).limit(limit)
