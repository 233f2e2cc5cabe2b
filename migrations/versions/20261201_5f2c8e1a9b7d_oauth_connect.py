"""OAuth connect: account statuses connected / reauth_required / revoked, profile and refresh
columns, per-key allowed return hosts, and the hashed single-use OAuth states

Revision ID: 5f2c8e1a9b7d
Revises: 908568a5ad3e
Create Date: 2026-12-01 14:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f2c8e1a9b7d"
down_revision: str | None = "908568a5ad3e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column("allowed_return_hosts", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
    )

    op.add_column("social_accounts", sa.Column("display_name", sa.Text(), nullable=True))
    op.add_column("social_accounts", sa.Column("avatar_url", sa.Text(), nullable=True))
    op.add_column(
        "social_accounts",
        sa.Column(
            "connected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.add_column("social_accounts", sa.Column("last_refresh_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("social_accounts", sa.Column("last_refresh_error", sa.Text(), nullable=True))
    op.execute("UPDATE social_accounts SET connected_at = created_at")
    # 'disconnected' meant two things: the operator ended the account (now `revoked`), or a token
    # died during delivery (now `reauth_required`, which a reauth repairs).
    op.drop_constraint(op.f("ck_social_accounts_status"), "social_accounts", type_="check")
    op.execute("""
        UPDATE social_accounts
        SET status = CASE WHEN disconnected_reason = 'operator' THEN 'revoked' ELSE 'reauth_required' END
        WHERE status = 'disconnected'
    """)
    op.create_check_constraint(
        op.f("ck_social_accounts_status"),
        "social_accounts",
        "status IN ('connected', 'reauth_required', 'revoked')",
    )
    op.create_index(
        "ix_social_accounts_project_platform_external",
        "social_accounts",
        ["project_id", "platform", "external_account_id"],
        unique=False,
    )

    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("usage_note", sa.Text(), nullable=True),
        sa.Column("requested_scopes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("code_verifier_encrypted", sa.Text(), nullable=True),
        sa.Column("reauth_social_account_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("social_account_id", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("platform IN ('tiktok', 'instagram')", name=op.f("ck_oauth_states_platform")),
        sa.CheckConstraint(
            "status IN ('pending', 'completed', 'failed')", name=op.f("ck_oauth_states_status")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_oauth_states_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_oauth_states_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_oauth_states_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reauth_social_account_id"],
            ["social_accounts.id"],
            name=op.f("fk_oauth_states_reauth_social_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["social_account_id"],
            ["social_accounts.id"],
            name=op.f("fk_oauth_states_social_account_id_social_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_states")),
    )
    op.create_index(op.f("ix_oauth_states_expires_at"), "oauth_states", ["expires_at"], unique=False)
    op.create_index(
        op.f("ix_oauth_states_organization_id"), "oauth_states", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_oauth_states_project_id"), "oauth_states", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_table("oauth_states")
    op.drop_index("ix_social_accounts_project_platform_external", table_name="social_accounts")
    op.drop_constraint(op.f("ck_social_accounts_status"), "social_accounts", type_="check")
    op.execute("UPDATE social_accounts SET status = 'disconnected' WHERE status <> 'connected'")
    op.create_check_constraint(
        op.f("ck_social_accounts_status"), "social_accounts", "status IN ('connected', 'disconnected')"
    )
    for column in ("last_refresh_error", "last_refresh_at", "connected_at", "avatar_url", "display_name"):
        op.drop_column("social_accounts", column)
    op.drop_column("api_keys", "allowed_return_hosts")
