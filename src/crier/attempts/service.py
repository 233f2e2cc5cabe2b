"""Retry a failed post only when Crier knows the platform has no copy of it; list its attempts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository as accounts_repository
from crier.attempts import repository
from crier.core.errors import Conflict
from crier.core.vocabulary import PostStatus
from crier.delivery import attempts_repository
from crier.delivery.policy import PROCESSING_TIMEOUT
from crier.models import DeliveryAttempt, ScheduledPost
from crier.platforms.progress import why_a_copy_may_exist
from crier.platforms.steps import OUTCOME_UNKNOWN
from crier.scheduled_posts.service import get_post
from crier.tenancy.ownership import OrganizationId

# Failures that say the platform may hold the post whatever the journal shows.
UNKNOWN_CODES = (OUTCOME_UNKNOWN, PROCESSING_TIMEOUT)


def retry_refusal(post: ScheduledPost) -> str | None:
    """Why a retry could double-post (or cannot help), as `details.reason`; None when it is safe."""
    if post.status != PostStatus.FAILED:
        return "not_failed"
    if (post.last_error or {}).get("code") in UNKNOWN_CODES:
        return "outcome_unknown"
    return why_a_copy_may_exist(post.journal or {})


async def retry_post(
    session: AsyncSession, *, organization_id: OrganizationId, post_id: str
) -> ScheduledPost:
    """failed → scheduled under the same id, or 409 CONFLICT with details.reason."""
    post = await get_post(session, organization_id=organization_id, post_id=post_id, for_update=True)
    reason = retry_refusal(post)
    if reason == "not_failed":
        raise Conflict(
            f"Only a failed post can be retried; this one is {post.status}.",
            details={"reason": reason, "status": post.status},
        )
    if reason is not None:
        raise Conflict(
            "The platform may already hold this post (its last call's outcome is not known to "
            "be a refusal), so a retry could post it twice. Check the account.",
            details={"reason": reason, "lastError": post.last_error},
        )
    account = await accounts_repository.find_account(session, account_id=post.social_account_id)
    if account is None or account.status != "connected":
        raise Conflict(
            "The post's social account is not connected; reconnect it, then retry.",
            details={"reason": "account_not_connected"},
        )
    return await repository.requeue(session, post=post)


async def list_attempts(
    session: AsyncSession, *, organization_id: OrganizationId, post_id: str
) -> list[DeliveryAttempt]:
    """The post's attempts, oldest first (404 for another organization's post)."""
    await get_post(session, organization_id=organization_id, post_id=post_id)
    return await attempts_repository.list_attempts(session, post_id=post_id)
