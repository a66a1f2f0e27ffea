"""Bars: 1-minute OHLC bars aggregated from the quote stream, kept across restarts.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bars",
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.String(), nullable=False),
        sa.Column("high", sa.String(), nullable=False),
        sa.Column("low", sa.String(), nullable=False),
        sa.Column("close", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("volume", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "ts", name="pk_bars"),
    )


def downgrade() -> None:
    op.drop_table("bars")
