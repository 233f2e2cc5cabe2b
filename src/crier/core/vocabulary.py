"""Crier's words for a scheduled post, spelled once: its platform, its mode and its status.

The models build their CHECK constraints from these, the schemas their wire enums (`core.schemas`),
and the services, the worker, the adapters and readiness compare against the members. Each member
is its own string, so the database and the wire see exactly the values they always did.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


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
    PUBLISHING = "publishing"  # a worker owns it, or it waits between steps (see PublishingStep)
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
