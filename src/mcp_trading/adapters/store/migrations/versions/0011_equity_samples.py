"""Intraday equity samples: per account its equity and cash at a configurable interval, the
intraday equity chart's series (not journaled; pruned after a number of days).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "equity_samples",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("equity", sa.String(), nullable=False),
        sa.Column("cash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "ts", name="pk_equity_samples"),
    )
    op.create_index("ix_equity_samples_ts", "equity_samples", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_equity_samples_ts", table_name="equity_samples")
    op.drop_table("equity_samples")
