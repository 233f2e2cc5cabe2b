"""history filter indexes: one keyset index per history filter

Each filter of GET /v1/projects/{id}/scheduled-posts gets an index that ends in the keyset order
(scheduled_for, id), so a page with a filter that matches few rows is a short range scan from the
cursor instead of a walk over the whole project. The container and account ones replace the
single-column indexes (still serving the foreign keys and the approval stash lookups).

Revision ID: 5c1e9a7b3d20
Revises: 5f2c8e1a9b7d
Create Date: 2026-12-01 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5c1e9a7b3d20"
down_revision: str | None = "5f2c8e1a9b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYSET_INDEXES = {
    "ix_scheduled_posts_status_history": ["project_id", "status", "scheduled_for", "id"],
    "ix_scheduled_posts_platform_history": ["project_id", "platform", "scheduled_for", "id"],
    "ix_scheduled_posts_mode_history": ["project_id", "mode", "scheduled_for", "id"],
    "ix_scheduled_posts_account_history": ["social_account_id", "scheduled_for", "id"],
    "ix_scheduled_posts_container_history": ["container_id", "scheduled_for", "id"],
}


def upgrade() -> None:
    for name, columns in _KEYSET_INDEXES.items():
        op.create_index(name, "scheduled_posts", columns, unique=False)
    op.drop_index("ix_scheduled_posts_container_id", table_name="scheduled_posts")
    op.drop_index("ix_scheduled_posts_social_account_id", table_name="scheduled_posts")
    # A rare word of `q=` must be estimated as rare, or the planner walks the whole project in keyset
    # order looking for it instead of asking the GIN index: keep many more of the words' frequencies.
    op.execute("ALTER TABLE scheduled_posts ALTER COLUMN search_vector SET STATISTICS 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE scheduled_posts ALTER COLUMN search_vector SET STATISTICS -1")
    op.create_index(
        "ix_scheduled_posts_social_account_id", "scheduled_posts", ["social_account_id"], unique=False
    )
    op.create_index("ix_scheduled_posts_container_id", "scheduled_posts", ["container_id"], unique=False)
    for name in reversed(list(_KEYSET_INDEXES)):
        op.drop_index(name, table_name="scheduled_posts")
