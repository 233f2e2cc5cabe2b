"""Scheduled posts: one row per publish target, from acceptance to a terminal state.

Targets stashed while a container awaits approval are rows too (`blocked_on_approval`), so their
ids are unique, readable and cancelable exactly like live posts; approval flips them to `scheduled`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from crier.core.vocabulary import ACTIVE_STATUSES, Mode, Platform, PostStatus, sql_in
from crier.models.base import Base, Timestamps


class ScheduledPost(Timestamps, Base):
    __tablename__ = "scheduled_posts"
    __table_args__ = (
        CheckConstraint(sql_in("status", PostStatus), name="status"),
        CheckConstraint(sql_in("mode", Mode), name="mode"),
        CheckConstraint(sql_in("platform", Platform), name="platform"),
        # The worker's scan: due work only (scheduled, or publishing whose next step or lease is due).
        Index(
            "ix_scheduled_posts_due",
            "due_at",
            postgresql_where=text(sql_in("status", ACTIVE_STATUSES)),
        ),
        # History listing: a project's posts in (scheduledFor, id) keyset order; and one index per
        # filter ending in that order, so a filter matching few rows never walks the whole project.
        Index("ix_scheduled_posts_project_history", "project_id", "scheduled_for", "id"),
        Index("ix_scheduled_posts_status_history", "project_id", "status", "scheduled_for", "id"),
        Index("ix_scheduled_posts_platform_history", "project_id", "platform", "scheduled_for", "id"),
        Index("ix_scheduled_posts_mode_history", "project_id", "mode", "scheduled_for", "id"),
        # These two also serve the foreign keys and the approval stash lookup by container.
        Index("ix_scheduled_posts_account_history", "social_account_id", "scheduled_for", "id"),
        Index("ix_scheduled_posts_container_history", "container_id", "scheduled_for", "id"),
        Index("ix_scheduled_posts_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    container_id: Mapped[str] = mapped_column(ForeignKey("content_containers.id", ondelete="CASCADE"))
    social_account_id: Mapped[str] = mapped_column(ForeignKey("social_accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    scheduled_for: Mapped[datetime]
    # Position of the target in the request that created it (ids are answered in target order).
    batch_position: Mapped[int] = mapped_column(default=0, server_default="0")

    # The target as the partner sent it.
    caption_override: Mapped[str | None] = mapped_column(Text)
    first_comment_override: Mapped[str | None] = mapped_column(Text)
    tiktok_post_settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tiktok_music: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    share_reel_to_feed: Mapped[bool | None]

    # The caption actually sent (override or the container's), searched by `q`.
    caption_sent: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple'::regconfig, caption_sent)", persisted=True)
    )

    # Outcome, as the partner reads it.
    attempted_at: Mapped[datetime | None]
    # When the platform first answered `processing`: the processing budget counts from here, so the
    # retries before it (a long Retry-After) do not eat it.
    processing_started_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(Text)
    external_url: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    canceled_at: Mapped[datetime | None]
    # A post that would break a platform limit waits `scheduled` until then (lastError QUOTA_DEFERRED).
    deferred_until: Mapped[datetime | None]

    # Delivery bookkeeping.
    # When the worker should look at this row next: scheduled_for, the next poll/retry, or the
    # end of the current lease (an expired lease makes the row due again: that is the rescue).
    due_at: Mapped[datetime | None]
    # Fencing token: bumped by every claim; every write that ends a step names the fence it holds. The
    # column keeps its first name, `attempt` (renaming it would be a migration for a word); it is not
    # the retry count, which CRIER_MAX_ATTEMPTS limits (retry_count).
    fence: Mapped[int] = mapped_column("attempt", default=0, server_default="0")
    lease_expires_at: Mapped[datetime | None]
    retry_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Handles the platform returned (publish_id, container ids, media id, sid, dispatch id), and
    # intent markers written before irreversible calls.
    journal: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # X-Request-Id of the call that created the post, so delivery logs join up with API logs.
    request_id: Mapped[str | None] = mapped_column(Text)
    # Webhooks: bumped by every status change, so receivers can drop an event older than one applied.
    event_sequence: Mapped[int] = mapped_column(default=1, server_default="1")
