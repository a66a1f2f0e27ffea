"""History: stored bars per (symbol, source, timeframe) and history-only instruments.

The history tables normally live in a database of their own (settings.history_url); this
migration chain runs there too, and the journal tables of that database stay empty.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_bars",
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("timeframe", sa.String(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("adj_factor", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "source", "timeframe", "ts", name="pk_history_bars"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "history_instruments",
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("tick_size", sa.String(), nullable=False),
        sa.Column("lot_size", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_history_instruments"),
    )


def downgrade() -> None:
    op.drop_table("history_instruments")
    op.drop_table("history_bars")
