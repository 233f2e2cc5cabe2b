"""Webhooks: partner endpoints, the outbox of events, and one delivery row per (event, endpoint).

An event row is written in the same transaction as the state change it reports (webhooks/outbox.py);
its `body` is the exact JSON sent, fixed once, so every retry and every worker sends the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base, Timestamps

ENDPOINT_STATUSES = ("active", "paused", "auto_paused")
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed", "abandoned")


class WebhookEndpoint(Timestamps, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (CheckConstraint(f"status IN {ENDPOINT_STATUSES!r}", name="status"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str | None] = mapped_column(Text)
    # `metadata` is reserved by SQLAlchemy's declarative base.
    endpoint_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    status: Mapped[str] = mapped_column(Text, default="active", server_default="active")
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # The secret before the last rotation: it keeps signing until previous_secret_expires_at.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(Text, primary_key=True)  # evt_<ULID>
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    post_id: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int | None]
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent (signed as is)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Timestamps, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        # The sender's scan: work that is due (pending, or delivering whose lease ran out).
        Index(
            "ix_webhook_deliveries_due",
            "next_retry_at",
            postgresql_where=text("status IN ('pending', 'delivering')"),
        ),
        # The deliveries log: an endpoint's deliveries newest first, keyset on (created_at, id).
        Index("ix_webhook_deliveries_endpoint_log", "endpoint_id", "created_at", "id"),
        # The claim's per-endpoint cap: how many of this endpoint's deliveries are in flight.
        Index(
            "ix_webhook_deliveries_in_flight", "endpoint_id", postgresql_where=text("status = 'delivering'")
        ),
        # Ordering: is an earlier event of this post still open for this endpoint?
        Index(
            "ix_webhook_deliveries_post_order",
            "endpoint_id",
            "post_id",
            "sequence",
            postgresql_where=text("status IN ('pending', 'delivering') AND post_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)  # whd_<uuid>
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # NULL once the endpoint was deleted: its deliveries stay, the pending ones abandoned (WEBHOOKS.md §1).
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="SET NULL"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(Text)
    post_id: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int | None]
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Fencing token: bumped by every claim; the result write names the claim it owns.
    claim: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the sender should look at this row next: the next try, or the end of the current lease.
    next_retry_at: Mapped[datetime | None] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]
    last_response_status: Mapped[int | None]
    last_response_at: Mapped[datetime | None]
    last_response_body: Mapped[str | None] = mapped_column(Text)  # at most 1 KB
    last_error_message: Mapped[str | None] = mapped_column(Text)
