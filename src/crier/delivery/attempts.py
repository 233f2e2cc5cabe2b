"""Every delivery attempt kept (GET /v1/scheduled-posts/{id}/attempts): the runner reports each step here.

An attempt starts when a worker first takes the post (or takes it again after a retryable failure,
a deferral or a partner's retry) and ends when a step settles the post, fails it, schedules a retry
or defers it. Polls and reconciliation rounds belong to the attempt they continue. Bookkeeping only:
the post's own row is already written when this runs, and a failure here never fails a delivery.
"""

from __future__ import annotations

import logging
from typing import Any

from crier.core.vocabulary import PostStatus
from crier.delivery import attempts_repository, repository
from crier.delivery.policy import Transition
from crier.delivery.writes import delivery_writes
from crier.platforms.progress import step_reached

log = logging.getLogger(__name__)

_OUTCOMES = {
    PostStatus.PUBLISHED: "published",
    PostStatus.DRAFT: "draft",
    PostStatus.FAILED: "failed",
    PostStatus.SCHEDULED: "deferred",
}


def attempt_outcome(transition: Transition) -> str:
    """What the step means for its attempt: it settled, it will be retried, or it is still going."""
    if transition.status in _OUTCOMES:
        return _OUTCOMES[transition.status]
    return "retrying" if transition.event == "post.retrying" else "in_progress"


async def record_step(
    *, post_id: str, started_at: Any, transition: Transition, handles: dict[str, Any] | None
) -> None:
    """Write the step just applied to the post's open attempt (or open one).

    `handles` is the post's journal as this run committed it (None: unknown, it is read first).
    """
    outcome = attempt_outcome(transition)
    try:
        if handles is None:
            journals = await repository.run_statements(
                lambda db: attempts_repository.journals_of(db, [post_id])
            )
            handles = journals.get(post_id, {})
        await delivery_writes().record_attempt_step(
            post_id=post_id,
            started_at=started_at,
            step=step_reached(handles),
            outcome=outcome,
            error=transition.error.as_dict() if transition.error else None,
            ends=outcome != "in_progress",
        )
    except Exception:  # the post's state is written already; a lost history line must not undo it
        log.exception("attempt.record_failed", extra={"postId": post_id})
