"""Crier's words for a scheduled post, spelled once: its platform, its mode and its status.

The models build their CHECK constraints from these, the schemas their wire enums (`core.schemas`),
and the services, the worker, the adapters and readiness compare against the members. Each member
is its own string, so the database and the wire see exactly the values they always did.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime


class Platform(enum.StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"


class Mode(enum.StrEnum):
    PUBLISH = "publish"  # posted on the account's profile
    DRAFT = "draft"  # left for the account's owner to finish (TikTok inbox, Instagram by SMS)
    MANAGED = "managed"  # handed to the layer's managed provider


class PostStatus(enum.StrEnum):
    BLOCKED_ON_APPROVAL = "blocked_on_approval"  # stashed until its container is approved
    SCHEDULED = "scheduled"  # waiting for scheduledFor (or for a platform limit to free)
    PUBLISHING = "publishing"  # a worker owns it, or it waits between steps (see PublishingPhase)
    PUBLISHED = "published"
    DRAFT = "draft"
    FAILED = "failed"
    CANCELED = "canceled"


# A post in one of these never changes again.
TERMINAL_STATUSES = (PostStatus.PUBLISHED, PostStatus.DRAFT, PostStatus.FAILED, PostStatus.CANCELED)
# Work the worker still has to do (the due scan and the queue depth look at these).
ACTIVE_STATUSES = (PostStatus.SCHEDULED, PostStatus.PUBLISHING)
# A partner (or a revoked account) may still cancel these: nothing was sent yet.
CANCELABLE_STATUSES = (PostStatus.SCHEDULED, PostStatus.BLOCKED_ON_APPROVAL)


def sql_in(column: str, values: Iterable[str]) -> str:
    """`column IN ('a', 'b')`, as the CHECK constraints and partial indexes spell it."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class PublishingPhase(enum.StrEnum):
    """Where a `publishing` post stands. No column holds it: publishing_phase() reads it off the row."""

    CLAIMED = "claimed"  # a worker holds its lease and is doing a step (or waits in place for the next)
    WAITING_TO_POLL = "waiting_to_poll"  # the platform accepted it; the next step asks how it went
    WAITING_TO_RETRY = "waiting_to_retry"  # nothing accepted yet; the next step sends again


def publishing_phase(
    *, lease_expires_at: datetime | None, processing_started_at: datetime | None
) -> PublishingPhase:
    """Name the sub-state of a `publishing` row from its lease and its processing clock."""
    if lease_expires_at is not None:
        return PublishingPhase.CLAIMED
    if processing_started_at is not None:
        return PublishingPhase.WAITING_TO_POLL
    return PublishingPhase.WAITING_TO_RETRY
