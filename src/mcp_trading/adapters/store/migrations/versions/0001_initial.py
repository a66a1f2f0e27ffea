"""Initial schema: journal, snapshots, projections and their checkpoint.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seq() -> sa.Column[int]:
    # INTEGER PRIMARY KEY is SQLite's rowid alias (fast appends); BIGINT elsewhere.
    return sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False,
        autoincrement=False,
    )


def upgrade() -> None:
    op.create_table(
        "journal",
        _seq(),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_journal"),
    )
    op.create_table(
        "snapshots",
        _seq(),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_snapshots"),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("cash", sa.String(), nullable=False),
        sa.Column("start_cash", sa.String(), nullable=False),
        sa.Column("realized_pnl", sa.String(), nullable=False),
        sa.Column("commissions", sa.String(), nullable=False),
        sa.Column("trading_state", sa.String(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("client_order_id", sa.String(), nullable=True),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("time_in_force", sa.String(), nullable=False),
        sa.Column("qty", sa.String(), nullable=False),
        sa.Column("limit_price", sa.String(), nullable=True),
        sa.Column("stop_price", sa.String(), nullable=True),
        sa.Column("trail_price", sa.String(), nullable=True),
        sa.Column("trail_percent", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("filled_qty", sa.String(), nullable=False),
        sa.Column("filled_avg_price", sa.String(), nullable=True),
        sa.Column("reject_code", sa.String(), nullable=True),
        sa.Column("reject_reason", sa.String(), nullable=True),
        sa.Column("replaces", sa.String(), nullable=True),
        sa.Column("replaced_by", sa.String(), nullable=True),
        sa.Column("attribution", sa.String(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index(
        "ix_orders_account_id_client_order_id", "orders", ["account_id", "client_order_id"],
        unique=True,
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_symbol", "orders", ["symbol"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_table(
        "fills",
        _seq(),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("qty", sa.String(), nullable=False),
        sa.Column("price", sa.String(), nullable=False),
        sa.Column("commission", sa.String(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_fills"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_index("ix_fills_account_id_ts", "fills", ["account_id", "ts"])
    op.create_table(
        "positions",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("qty", sa.String(), nullable=False),
        sa.Column("avg_entry_price", sa.String(), nullable=False),
        sa.Column("realized_pnl", sa.String(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name="pk_positions"),
    )
    op.create_table(
        "projection_checkpoint",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_projection_checkpoint"),
    )


def downgrade() -> None:
    for table in (
        "projection_checkpoint", "positions", "fills", "orders", "accounts", "snapshots",
        "journal",
    ):
        op.drop_table(table)
