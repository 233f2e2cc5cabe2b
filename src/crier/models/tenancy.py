"""Organizations, their API keys, projects (with the approval policy) and layers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base, Timestamps


class Organization(Timestamps, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    primary_operator_phone: Mapped[str | None] = mapped_column(Text)
    primary_operator_phone_verified: Mapped[bool] = mapped_column(default=False, server_default="false")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    # sha256 of the whole key; the key itself is shown once and never stored.
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    key_prefix: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # Hosts an OAuth returnUrl may point at (ACCOUNTS.md); empty: this key cannot start a connect.
    allowed_return_hosts: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


class Project(Timestamps, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(
            "first_n_posts_blocked IS NULL OR first_n_posts_blocked >= 0", name="first_n_non_negative"
        ),
        CheckConstraint("current_blocked_count >= 0", name="blocked_count_non_negative"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default="false")
    first_n_posts_blocked: Mapped[int | None]
    current_blocked_count: Mapped[int] = mapped_column(default=0, server_default="0")


class Layer(Timestamps, Base):
    __tablename__ = "layers"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[str] = mapped_column(Text)
    # Public part of the config (provider, baseUrl, ...). The signing secret is kept encrypted apart.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    signing_secret_encrypted: Mapped[str | None] = mapped_column(Text)
