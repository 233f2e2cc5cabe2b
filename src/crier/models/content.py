"""Content containers: the media and caption a partner publishes, with their approval stamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base, Timestamps


class ContentContainer(Timestamps, Base):
    __tablename__ = "content_containers"
    __table_args__ = (
        CheckConstraint("status IN ('generating', 'completed', 'failed')", name="status"),
        CheckConstraint("approval_status IN ('pending', 'approved', 'rejected')", name="approval_status"),
        CheckConstraint("media_type IN ('image', 'video', 'multi')", name="media_type"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(Text, default="completed", server_default="completed")
    approval_status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    media_type: Mapped[str] = mapped_column(Text)
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    caption: Mapped[str | None] = mapped_column(Text)
    first_comment: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(Text)  # key_... of the approving API key
    approval_note: Mapped[str | None] = mapped_column(Text)
    rejected_at: Mapped[datetime | None]
    rejected_by: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
