"""initial schema

Revision ID: 908568a5ad3e
Revises:
Create Date: 2026-11-23 11:57:01.310080
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "908568a5ad3e"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "organization_id",
            "method",
            "path",
            "key",
            name=op.f("uq_idempotency_keys_organization_id_method_path_key"),
        ),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False)
    op.create_table(
        "organizations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("primary_operator_phone", sa.Text(), nullable=True),
        sa.Column("primary_operator_phone_verified", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "tiktok_music_tracks",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("artist", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiktok_music_tracks")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("scopes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_organization_id"), "api_keys", ["organization_id"], unique=False)
    op.create_table(
        "projects",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("first_n_posts_blocked", sa.Integer(), nullable=True),
        sa.Column("current_blocked_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("current_blocked_count >= 0", name=op.f("ck_projects_blocked_count_non_negative")),
        sa.CheckConstraint(
            "first_n_posts_blocked IS NULL OR first_n_posts_blocked >= 0",
            name=op.f("ck_projects_first_n_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_projects_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_organization_id"), "projects", ["organization_id"], unique=False)
    op.create_table(
        "content_containers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="completed", nullable=False),
        sa.Column("approval_status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("media", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("first_comment", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_by", sa.Text(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "approval_status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_content_containers_approval_status"),
        ),
        sa.CheckConstraint(
            "media_type IN ('image', 'video', 'multi')", name=op.f("ck_content_containers_media_type")
        ),
        sa.CheckConstraint(
            "status IN ('generating', 'completed', 'failed')", name=op.f("ck_content_containers_status")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_content_containers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_content_containers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_containers")),
    )
    op.create_index(
        op.f("ix_content_containers_organization_id"), "content_containers", ["organization_id"], unique=False
    )
    op.create_index(
        op.f("ix_content_containers_project_id"), "content_containers", ["project_id"], unique=False
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("signing_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_layers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_layers_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layers")),
    )
    op.create_index(op.f("ix_layers_organization_id"), "layers", ["organization_id"], unique=False)
    op.create_index(op.f("ix_layers_project_id"), "layers", ["project_id"], unique=False)
    op.create_table(
        "social_accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("layer_id", sa.Text(), nullable=True),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("external_account_id", sa.Text(), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("granted_scopes", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("instagram_account_type", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="connected", nullable=False),
        sa.Column("disconnected_reason", sa.Text(), nullable=True),
        sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "instagram_account_type IS NULL OR instagram_account_type IN ('business', 'creator', 'personal')",
            name=op.f("ck_social_accounts_instagram_account_type"),
        ),
        sa.CheckConstraint("platform IN ('tiktok', 'instagram')", name=op.f("ck_social_accounts_platform")),
        sa.CheckConstraint("status IN ('connected', 'disconnected')", name=op.f("ck_social_accounts_status")),
        sa.ForeignKeyConstraint(
            ["layer_id"], ["layers.id"], name=op.f("fk_social_accounts_layer_id_layers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_social_accounts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_social_accounts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_accounts")),
    )
    op.create_index(op.f("ix_social_accounts_layer_id"), "social_accounts", ["layer_id"], unique=False)
    op.create_index(
        op.f("ix_social_accounts_organization_id"), "social_accounts", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_social_accounts_project_id"), "social_accounts", ["project_id"], unique=False)
    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("container_id", sa.Text(), nullable=False),
        sa.Column("social_account_id", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("caption_override", sa.Text(), nullable=True),
        sa.Column("first_comment_override", sa.Text(), nullable=True),
        sa.Column("tiktok_post_settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tiktok_music", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("share_reel_to_feed", sa.Boolean(), nullable=True),
        sa.Column("caption_sent", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, caption_sent)", persisted=True),
            nullable=False,
        ),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("external_url", sa.Text(), nullable=True),
        sa.Column("last_error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("journal", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("mode IN ('publish', 'draft', 'managed')", name=op.f("ck_scheduled_posts_mode")),
        sa.CheckConstraint("platform IN ('tiktok', 'instagram')", name=op.f("ck_scheduled_posts_platform")),
        sa.CheckConstraint(
            "status IN ('blocked_on_approval', 'scheduled', 'publishing', 'published', 'draft', 'failed', 'canceled')",
            name=op.f("ck_scheduled_posts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["content_containers.id"],
            name=op.f("fk_scheduled_posts_container_id_content_containers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_scheduled_posts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_scheduled_posts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["social_account_id"],
            ["social_accounts.id"],
            name=op.f("fk_scheduled_posts_social_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
    )
    op.create_index(
        op.f("ix_scheduled_posts_container_id"), "scheduled_posts", ["container_id"], unique=False
    )
    op.create_index(
        "ix_scheduled_posts_due",
        "scheduled_posts",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('scheduled', 'publishing')"),
    )
    op.create_index(
        op.f("ix_scheduled_posts_organization_id"), "scheduled_posts", ["organization_id"], unique=False
    )
    op.create_index(
        "ix_scheduled_posts_project_history",
        "scheduled_posts",
        ["project_id", "scheduled_for", "id"],
        unique=False,
    )
    op.create_index(
        "ix_scheduled_posts_search",
        "scheduled_posts",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_scheduled_posts_social_account_id"), "scheduled_posts", ["social_account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduled_posts_social_account_id"), table_name="scheduled_posts")
    op.drop_index("ix_scheduled_posts_search", table_name="scheduled_posts", postgresql_using="gin")
    op.drop_index("ix_scheduled_posts_project_history", table_name="scheduled_posts")
    op.drop_index(op.f("ix_scheduled_posts_organization_id"), table_name="scheduled_posts")
    op.drop_index(
        "ix_scheduled_posts_due",
        table_name="scheduled_posts",
        postgresql_where=sa.text("status IN ('scheduled', 'publishing')"),
    )
    op.drop_index(op.f("ix_scheduled_posts_container_id"), table_name="scheduled_posts")
    op.drop_table("scheduled_posts")
    op.drop_index(op.f("ix_social_accounts_project_id"), table_name="social_accounts")
    op.drop_index(op.f("ix_social_accounts_organization_id"), table_name="social_accounts")
    op.drop_index(op.f("ix_social_accounts_layer_id"), table_name="social_accounts")
    op.drop_table("social_accounts")
    op.drop_index(op.f("ix_layers_project_id"), table_name="layers")
    op.drop_index(op.f("ix_layers_organization_id"), table_name="layers")
    op.drop_table("layers")
    op.drop_index(op.f("ix_content_containers_project_id"), table_name="content_containers")
    op.drop_index(op.f("ix_content_containers_organization_id"), table_name="content_containers")
    op.drop_table("content_containers")
    op.drop_index(op.f("ix_projects_organization_id"), table_name="projects")
    op.drop_table("projects")
    op.drop_index(op.f("ix_api_keys_organization_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tiktok_music_tracks")
    op.drop_table("organizations")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
