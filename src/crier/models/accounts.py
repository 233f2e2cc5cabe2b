"""Connected TikTok / Instagram accounts (tokens encrypted at rest) and the TikTok music catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base, Timestamps


class SocialAccount(Timestamps, Base):
    __tablename__ = "social_accounts"
    __table_args__ = (
        CheckConstraint("platform IN ('tiktok', 'instagram')", name="platform"),
        CheckConstraint("status IN ('connected', 'disconnected')", name="status"),
        CheckConstraint(
            "instagram_account_type IS NULL OR instagram_account_type IN ('business', 'creator', 'personal')",
            name="instagram_account_type",
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    layer_id: Mapped[str | None] = mapped_column(ForeignKey("layers.id", ondelete="SET NULL"), index=True)
    platform: Mapped[str] = mapped_column(Text)
    handle: Mapped[str] = mapped_column(Text)
    external_account_id: Mapped[str] = mapped_column(Text)
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    refresh_token_expires_at: Mapped[datetime | None]
    granted_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    instagram_account_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="connected", server_default="connected")
    disconnected_reason: Mapped[str | None] = mapped_column(Text)
    disconnected_at: Mapped[datetime | None]


class TiktokMusicTrack(Base):
    __tablename__ = "tiktok_music_tracks"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    artist: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
