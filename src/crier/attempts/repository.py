"""SQL of a partner's retry: put a failed post back in the queue under the same id."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import PostStatus
from crier.models import ScheduledPost
from crier.webhooks.outbox import record_post_events


async def requeue(session: AsyncSession, *, post: ScheduledPost) -> ScheduledPost:
    """failed → scheduled, due now, with a fresh journal, retry budget and processing clock.

    The fence (the `attempt` column) is left alone: the next claim bumps it, so a worker still holding
    an old claim can never write over the new delivery.
    """
    post.status = PostStatus.SCHEDULED
    post.due_at = func.now()
    post.attempted_at = None
    post.retry_count = 0
    post.last_error = None
    post.external_id = None
    post.external_url = None
    post.deferred_until = None
    post.lease_expires_at = None
    post.journal = {}
    post.event_sequence = ScheduledPost.event_sequence + 1
    await session.flush()
    await record_post_events(session, post_ids=[post.id])  # post.scheduled again, same transaction
    await session.refresh(post)
    return post
