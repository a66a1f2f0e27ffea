"""API keys: the per-key `confirm_orders` policy (orders through MCP need a preview token).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing keys get the safe default: confirmation required
    op.add_column("api_keys", sa.Column("confirm_orders", sa.Boolean(), nullable=False,
                                        server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("confirm_orders")
