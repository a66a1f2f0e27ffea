"""Archive tables: closed orders, fills, feed-built bars and (when named) history moved out of
the hot tables by `mcp-trading archive`, and the horizons the archival reached.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S, _I, _B = sa.String, sa.BigInteger, sa.Boolean


def _seq() -> sa.Column[int]:
    return sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     autoincrement=False, nullable=False)


def _orders() -> None:
    nullable = {"client_order_id", "limit_price", "stop_price", "trail_price", "trail_percent",
                "filled_avg_price", "reject_code", "reject_reason", "replaces", "replaced_by",
                "attribution", "hwm"}
    names = ["id", "account_id", "client_order_id", "symbol", "side", "type", "time_in_force",
             "qty", "limit_price", "stop_price", "trail_price", "trail_percent", "status",
             "filled_qty", "filled_avg_price", "reject_code", "reject_reason", "replaces",
             "replaced_by", "attribution"]
    op.create_table(
        "orders_archive",
        *(sa.Column(n, _S(), nullable=n in nullable) for n in names),
        sa.Column("created_at", _I(), nullable=False),
        sa.Column("updated_at", _I(), nullable=False),
        sa.Column("extended_hours", _B(), nullable=False, server_default=sa.false()),
        sa.Column("hwm", _S(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders_archive"),
    )
    op.create_index("ix_orders_archive_account_id_client_order_id", "orders_archive",
                    ["account_id", "client_order_id"])
    op.create_index("ix_orders_archive_created_at", "orders_archive", ["created_at"])


def _fills() -> None:
    op.create_table(
        "fills_archive",
        _seq(),
        *(sa.Column(n, _S(), nullable=False) for n in (
            "order_id", "account_id", "symbol", "side", "qty", "price", "commission")),
        sa.Column("ts", _I(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_fills_archive"),
    )
    op.create_index("ix_fills_archive_order_id", "fills_archive", ["order_id"])
    op.create_index("ix_fills_archive_account_id_ts", "fills_archive", ["account_id", "ts"])


def upgrade() -> None:
    _orders()
    _fills()
    op.create_table(
        "bars_archive",
        sa.Column("symbol", _S(), nullable=False),
        sa.Column("ts", _I(), nullable=False),
        *(sa.Column(n, _S(), nullable=False) for n in ("open", "high", "low", "close")),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("volume", _S(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "ts", name="pk_bars_archive"),
    )
    op.create_table(
        "history_bars_archive",
        *(sa.Column(n, _S(), nullable=False) for n in ("symbol", "source", "timeframe")),
        sa.Column("ts", _I(), nullable=False),
        *(sa.Column(n, sa.Double(), nullable=False) for n in ("open", "high", "low", "close")),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("adj_factor", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "source", "timeframe", "ts",
                                name="pk_history_bars_archive"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "archive_horizons",
        sa.Column("name", _S(), nullable=False),
        sa.Column("before_ns", _I(), nullable=False),
        sa.Column("seq", _I(), nullable=True),
        sa.Column("updated_at", _I(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_archive_horizons"),
    )


def downgrade() -> None:
    for table in ("archive_horizons", "history_bars_archive", "bars_archive", "fills_archive",
                  "orders_archive"):
        op.drop_table(table)
