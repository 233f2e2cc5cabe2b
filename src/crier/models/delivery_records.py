"""What delivery remembers beyond the post itself: each attempt, each paced platform call, each quota.

- `delivery_attempts`: one row per try at delivering a post (GET /v1/scheduled-posts/{id}/attempts).
- `platform_call_slots`: the platform calls Crier made or reserved per account and call kind; the
  sliding-window log that paces TikTok's per-token rates and counts what was sent (the quota ledger).
- `account_quotas`: limits per account as last read from the platform, learned from its refusals, or
  documented, with the count Crier keeps between reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base

ATTEMPT_OUTCOMES = ("in_progress", "published", "draft", "failed", "retrying", "deferred")
QUOTA_SOURCES = ("platform", "learned", "documented")


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        UniqueConstraint("scheduled_post_id", "number"),
        CheckConstraint(f"outcome IN {ATTEMPT_OUTCOMES!r}", name="outcome"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    scheduled_post_id: Mapped[str] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # The furthest step the platform adapter reached (e.g. "tiktok.init_accepted"), named by the adapter.
    step: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PlatformCallSlot(Base):
    __tablename__ = "platform_call_slots"
    __table_args__ = (
        Index("ix_platform_call_slots_account_call_at", "social_account_id", "call", "slot_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    social_account_id: Mapped[str] = mapped_column(ForeignKey("social_accounts.id", ondelete="CASCADE"))
    call: Mapped[str] = mapped_column(Text)  # e.g. "tiktok.init", "tiktok.creator_info", "tiktok.status"
    slot_at: Mapped[datetime]  # when the call may go (now, or a reserved future instant)
    # The post a future slot is reserved for: it takes its own slot when it comes back.
    scheduled_post_id: Mapped[str | None] = mapped_column(Text)


class AccountQuota(Base):
    __tablename__ = "account_quotas"
    __table_args__ = (CheckConstraint(f"source IN {QUOTA_SOURCES!r}", name="source"),)

    social_account_id: Mapped[str] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    window_seconds: Mapped[int]
    limit: Mapped[int | None]
    used: Mapped[int] = mapped_column(default=0, server_default="0")
    resets_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(server_default=func.now())
