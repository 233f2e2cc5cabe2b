"""SQL of content containers: the one lookup (with the lock its caller needs) and their posts."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import PostStatus
from crier.models import ContentContainer, ScheduledPost

# "share": a reader holds approve, reject and patch off until it commits (the publish path takes the
# same lock inside its own joined statement, publishing/repository); "update": approve, reject and
# patch of one container serialize, so neither can slip past the other.
ContainerLock = Literal["share", "update"]

# Posts that will still read the container's media and caption when they go out.
PENDING_STATUSES = (PostStatus.BLOCKED_ON_APPROVAL, PostStatus.SCHEDULED, PostStatus.PUBLISHING)


async def has_pending_posts(session: AsyncSession, *, container_id: str) -> bool:
    """True when a post of the container is stashed, scheduled or publishing."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    ScheduledPost.container_id == container_id, ScheduledPost.status.in_(PENDING_STATUSES)
                )
            )
        )
    )


async def find_container(
    session: AsyncSession, *, organization_id: str, container_id: str, lock: ContainerLock | None = None
) -> ContentContainer | None:
    """The organization's container with this id, or None."""
    statement = select(ContentContainer).where(
        ContentContainer.id == container_id, ContentContainer.organization_id == organization_id
    )
    if lock is not None:
        statement = statement.with_for_update(read=lock == "share")
    return await session.scalar(statement)


async def stashed_targets(session: AsyncSession, *, container_id: str) -> list[ScheduledPost]:
    """Targets scheduled while the container awaited approval, in the order they were submitted."""
    return list(
        await session.scalars(
            select(ScheduledPost)
            .where(
                ScheduledPost.container_id == container_id,
                ScheduledPost.status == PostStatus.BLOCKED_ON_APPROVAL,
            )
            .order_by(ScheduledPost.created_at, ScheduledPost.batch_position)
        )
    )
