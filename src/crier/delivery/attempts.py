"""Every delivery attempt kept (GET /v1/scheduled-posts/{id}/attempts): the runner reports each step here.

An attempt starts when a worker first takes the post (or takes it again after a retryable failure,
a deferral or a partner's retry) and ends when a step settles the post, fails it, schedules a retry
or defers it. Polls and reconciliation rounds belong to the attempt they continue.

The line that ends an attempt is written by the post's own fenced state change, in the same
statement (`closing_line` builds it): whoever sees the post's new state (or its webhook) sees the
attempt ended, a worker killed after the change loses no line, and a lost fence writes none. The
line that opens an attempt is bookkeeping (`record_step`): a failure there never fails a delivery,
and the closing line opens the attempt itself when it is missing.
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


def ends_attempt(transition: Transition) -> bool:
    """True when the step closes its attempt (its line then goes with the post's state change)."""
    return attempt_outcome(transition) != "in_progress"


async def closing_line(
    *, post_id: str, started_at: Any, transition: Transition, handles: dict[str, Any] | None
) -> dict[str, Any]:
    """The attempt line a fenced state change writes with it (attempts_repository.ATTEMPT_CTES).

    `handles` is the post's journal as this run committed it (None: unknown, it is read first).
    """
    if handles is None:
        handles = await _committed_journal(post_id)
    outcome = attempt_outcome(transition)
    return {
        "post_id": post_id,
        "started_at": started_at,
        "step": step_reached(handles),
        "outcome": outcome,
        "error": transition.error.as_dict() if transition.error else None,
        "ends": outcome != "in_progress",
    }


async def record_step(
    *, post_id: str, started_at: Any, transition: Transition, handles: dict[str, Any] | None
) -> None:
    """Write the step just applied to the post's open attempt (or open one), on its own: best effort.

    `handles` is the post's journal as this run committed it (None: unknown, it is read first).
    """
    try:
        line = await closing_line(
            post_id=post_id, started_at=started_at, transition=transition, handles=handles
        )
        await delivery_writes().record_attempt_step(
            post_id=post_id,
            started_at=started_at,
            step=line["step"],
            outcome=line["outcome"],
            error=line["error"],
            ends=line["ends"],
        )
    except Exception:  # the post's state is written already; a lost history line must not undo it
        log.exception("attempt.record_failed", extra={"postId": post_id})


async def _committed_journal(post_id: str) -> dict[str, Any]:
    """The post's journal as committed; empty when it cannot be read (the line then names no step
    rather than holding up the post's state change)."""
    try:
        journals = await repository.run_statements(lambda db: attempts_repository.journals_of(db, [post_id]))
    except Exception:
        log.exception("attempt.journal_unread", extra={"postId": post_id})
        return {}
    return journals.get(post_id, {})
