"""SQL of content containers that is not a plain lookup."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import PostStatus
from crier.models import ScheduledPost

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
