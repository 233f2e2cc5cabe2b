"""delivery: processing_started_at on scheduled_posts, worker_heartbeats

Revision ID: 5d1e7c0a9b21
Revises: 6c1e0a7d2b44
Create Date: 2026-12-01 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1e7c0a9b21"
down_revision: str | None = "6c1e0a7d2b44"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "scheduled_posts", sa.Column("processing_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    op.create_index(op.f("ix_worker_heartbeats_hostname"), "worker_heartbeats", ["hostname"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_heartbeats_hostname"), table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
    op.drop_column("scheduled_posts", "processing_started_at")
