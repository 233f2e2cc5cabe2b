"""webhook deliveries outlive their endpoint: a deleted endpoint's pending deliveries stay, abandoned

Revision ID: c3a9d4e1f062
Revises: b7c1e0a4d2f9
Create Date: 2026-12-01 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a9d4e1f062"
down_revision: str | None = "b7c1e0a4d2f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_webhook_deliveries_endpoint_id_webhook_endpoints"


def upgrade() -> None:
    # WEBHOOKS.md §1: DELETE removes the endpoint and abandons its pending deliveries; the rows stay.
    op.alter_column("webhook_deliveries", "endpoint_id", existing_type=sa.Text(), nullable=True)
    op.drop_constraint(FK, "webhook_deliveries", type_="foreignkey")
    op.create_foreign_key(
        FK, "webhook_deliveries", "webhook_endpoints", ["endpoint_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    op.execute("DELETE FROM webhook_deliveries WHERE endpoint_id IS NULL")
    op.drop_constraint(FK, "webhook_deliveries", type_="foreignkey")
    op.create_foreign_key(
        FK, "webhook_deliveries", "webhook_endpoints", ["endpoint_id"], ["id"], ondelete="CASCADE"
    )
    op.alter_column("webhook_deliveries", "endpoint_id", existing_type=sa.Text(), nullable=False)
