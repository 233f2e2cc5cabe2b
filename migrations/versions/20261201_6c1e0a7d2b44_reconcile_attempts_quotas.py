"""delivery attempts, platform call slots, account quotas, scheduled_posts.deferred_until

Revision ID: 6c1e0a7d2b44
Revises: 5c1e9a7b3d20
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6c1e0a7d2b44"
down_revision: str | None = "5c1e9a7b3d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scheduled_posts", sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scheduled_post_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('in_progress', 'published', 'draft', 'failed', 'retrying', 'deferred')",
            name=op.f("ck_delivery_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_post_id"],
            ["scheduled_posts.id"],
            ondelete="CASCADE",
            name=op.f("fk_delivery_attempts_scheduled_post_id_scheduled_posts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint(
            "scheduled_post_id", "number", name=op.f("uq_delivery_attempts_scheduled_post_id_number")
        ),
    )
    op.create_table(
        "platform_call_slots",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("social_account_id", sa.Text(), nullable=False),
        sa.Column("call", sa.Text(), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_post_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["social_account_id"],
            ["social_accounts.id"],
            ondelete="CASCADE",
            name=op.f("fk_platform_call_slots_social_account_id_social_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_call_slots")),
    )
    op.create_index(
        "ix_platform_call_slots_account_call_at",
        "platform_call_slots",
        ["social_account_id", "call", "slot_at"],
        unique=False,
    )
    op.create_table(
        "account_quotas",
        sa.Column("social_account_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resets_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source IN ('platform', 'learned', 'documented')", name=op.f("ck_account_quotas_source")
        ),
        sa.ForeignKeyConstraint(
            ["social_account_id"],
            ["social_accounts.id"],
            ondelete="CASCADE",
            name=op.f("fk_account_quotas_social_account_id_social_accounts"),
        ),
        sa.PrimaryKeyConstraint("social_account_id", "name", name=op.f("pk_account_quotas")),
    )


def downgrade() -> None:
    op.drop_table("account_quotas")
    op.drop_index("ix_platform_call_slots_account_call_at", table_name="platform_call_slots")
    op.drop_table("platform_call_slots")
    op.drop_table("delivery_attempts")
    op.drop_column("scheduled_posts", "deferred_until")
