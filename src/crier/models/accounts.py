"""Connected TikTok / Instagram accounts (tokens encrypted at rest), the OAuth states that connect
them, and the TikTok music catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from crier.core.vocabulary import Platform, sql_in
from crier.models.base import Base, Timestamps

# Only `connected` is ready for anything; `reauth_required` comes back to `connected` by a reauth
# (same id); `revoked` was ended on purpose by the partner or the operator.
ACCOUNT_STATUSES = ("connected", "reauth_required", "revoked")
OAUTH_STATE_STATUSES = ("pending", "completed", "failed")


class SocialAccount(Timestamps, Base):
    __tablename__ = "social_accounts"
    __table_args__ = (
        CheckConstraint(sql_in("platform", Platform), name="platform"),
        CheckConstraint(f"status IN {ACCOUNT_STATUSES!r}", name="status"),
        CheckConstraint(
            "instagram_account_type IS NULL OR instagram_account_type IN ('business', 'creator', 'personal')",
            name="instagram_account_type",
        ),
        # A connect looks the platform account up in its project (an OAuth connect updates, never duplicates).
        Index(
            "ix_social_accounts_project_platform_external", "project_id", "platform", "external_account_id"
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
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
    # Why and when the account last stopped being `connected` (kept after a reconnect, for the record).
    disconnected_reason: Mapped[str | None] = mapped_column(Text)
    disconnected_at: Mapped[datetime | None]
    display_name: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    connected_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_refresh_at: Mapped[datetime | None]
    last_refresh_error: Mapped[str | None] = mapped_column(Text)


class OAuthState(Base):
    """One authorize URL handed to a partner: the state is its only credential, so only its hash is kept."""

    __tablename__ = "oauth_states"
    __table_args__ = (
        CheckConstraint(sql_in("platform", Platform), name="platform"),
        CheckConstraint(f"status IN {OAUTH_STATE_STATUSES!r}", name="status"),
    )

    # sha256 of the whole `st_...` state; the status lookup and the callback hash what they are given.
    state_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(Text)
    return_url: Mapped[str] = mapped_column(Text)
    usage_note: Mapped[str | None] = mapped_column(Text)
    requested_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # PKCE (TikTok): the verifier must survive until the callback; encrypted like every token.
    code_verifier_encrypted: Mapped[str | None] = mapped_column(Text)
    # Set for a reauth: the tokens bind to this account, which must be the same platform account.
    reauth_social_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    social_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="SET NULL")
    )
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    # Indexed for the sweep of long-expired states (each new authorize URL deletes a few).
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TiktokMusicTrack(Base):
    __tablename__ = "tiktok_music_tracks"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    artist: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
