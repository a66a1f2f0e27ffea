"""History blocks: each series' bars packed per block of time (adapters/history/sql_blocks.py),
the table the history store's reads and series ranges are served from; built here from the
rows already stored.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_blocks",
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("timeframe", sa.String(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("first_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "source", "timeframe", "block",
                                name="pk_history_blocks"),
        sqlite_with_rowid=False,
    )
    from mcp_trading.adapters.history.sql_blocks import rebuild_blocks

    bind = op.get_bind()
    series = bind.execute(sa.text(
        "SELECT symbol, source, timeframe, MIN(ts), MAX(ts) FROM history_bars "
        "GROUP BY symbol, source, timeframe")).all()
    driver = bind.connection.driver_connection
    for symbol, source, timeframe, first, last in series:
        rebuild_blocks(bind.dialect.name, driver, (symbol, source, timeframe), int(first),
                       int(last))


def downgrade() -> None:
    op.drop_table("history_blocks")
