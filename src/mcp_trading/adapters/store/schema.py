"""The store's tables: the journal, snapshots, and the projections operators and reports read.

Migrations (in `migrations/versions`) create these tables; this module is the current shape,
used by the code and by `alembic revision --autogenerate` to draft the next migration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    true,
)

__all__ = [
    "Dec",
    "accounts",
    "api_keys",
    "archive_horizons",
    "backtests",
    "bars",
    "bars_archive",
    "dedupe_segments",
    "equity_samples",
    "fills",
    "fills_archive",
    "history_bars",
    "history_bars_archive",
    "history_blocks",
    "history_instruments",
    "journal",
    "metadata",
    "optimizer_previews",
    "optimizer_runs",
    "orders",
    "orders_archive",
    "positions",
    "projection_checkpoint",
    "reports",
    "snapshot_segments",
    "snapshots",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# On SQLite only a column declared exactly INTEGER PRIMARY KEY aliases the rowid; any other
# declaration (BIGINT) adds a separate index and costs ~25 % of append throughput.
# SQLite INTEGER is 64-bit, so the variant loses no range.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")


class Dec(TypeDecorator[Decimal]):
    """A Decimal stored as its exact string form.

    Why strings, not Numeric(38, 10): SQLite has no decimal type (SQLAlchemy's Numeric goes
    through REAL, a binary float, so 0.1 comes back approximate), and a fixed scale of 10
    would round values the domain computes at full precision (an average entry price of
    100.333…). The string of a Decimal parses back to the identical Decimal on every
    backend. Reports that aggregate in SQL cast explicitly (PostgreSQL: `cash::numeric`).
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


journal = Table(
    "journal",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=False),
    Column("kind", SmallInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),  # event time, ns since the epoch
    Column("payload", LargeBinary, nullable=False),  # msgpack body (kernel.codec)
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=False),
    Column("created_at", BigInteger, nullable=False),  # wall time of the save, ns
    Column("payload", LargeBinary, nullable=False),
)

# A sealed generation of duplicate-check entries (kernel.dedupe), stored once and referenced
# by each snapshot that includes it (snapshot_segments), so a snapshot does not re-write them.
dedupe_segments = Table(
    "dedupe_segments",
    metadata,
    Column("digest", LargeBinary, primary_key=True),  # BLAKE2b-128 of the payload
    Column("created_at", BigInteger, nullable=False),  # wall time of the save, ns
    Column("payload", LargeBinary, nullable=False),  # msgpack (kernel.snapshot)
)

snapshot_segments = Table(
    "snapshot_segments",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=False),  # the snapshot's
    Column("digest", LargeBinary, primary_key=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("currency", String, nullable=False),
    Column("cash", Dec, nullable=False),
    Column("start_cash", Dec, nullable=False),
    Column("realized_pnl", Dec, nullable=False),
    Column("commissions", Dec, nullable=False),
    Column("trading_state", String, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String, primary_key=True),
    Column("account_id", String, nullable=False),
    Column("client_order_id", String),
    Column("symbol", String, nullable=False),
    Column("side", String, nullable=False),
    Column("type", String, nullable=False),
    Column("time_in_force", String, nullable=False),
    Column("qty", Dec, nullable=False),
    Column("limit_price", Dec),
    Column("stop_price", Dec),
    Column("trail_price", Dec),
    Column("trail_percent", Dec),
    Column("status", String, nullable=False),
    Column("filled_qty", Dec, nullable=False),
    Column("filled_avg_price", Dec),
    Column("reject_code", String),
    Column("reject_reason", String),
    Column("replaces", String),
    Column("replaced_by", String),
    Column("attribution", String),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # 0005: what order_view shows of a closed order, which is read from here
    Column("extended_hours", Boolean, nullable=False, server_default=false()),
    Column("hwm", Dec),  # a trailing stop's watermark (its stop_price moves with it)
    Index(None, "account_id", "client_order_id", unique=True),
    Index(None, "status"),
    Index(None, "symbol"),
    Index(None, "created_at"),
)

fills = Table(
    "fills",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=False),  # journal seq of the fill
    Column("order_id", String, nullable=False),
    Column("account_id", String, nullable=False),
    Column("symbol", String, nullable=False),
    Column("side", String, nullable=False),
    Column("qty", Dec, nullable=False),
    Column("price", Dec, nullable=False),
    Column("commission", Dec, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index(None, "order_id"),
    Index(None, "account_id", "ts"),
)

positions = Table(
    "positions",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("symbol", String, primary_key=True),
    Column("qty", Dec, nullable=False),
    Column("avg_entry_price", Dec, nullable=False),
    Column("realized_pnl", Dec, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

projection_checkpoint = Table(
    "projection_checkpoint",
    metadata,
    Column("name", String, primary_key=True),
    Column("seq", BigInteger, nullable=False),  # last journal seq folded into the projections
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String, primary_key=True),  # the public part of `mcpt_<id>_<secret>`
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),  # Role.label: viewer, trader, operator, admin
    Column("account_id", String),  # None: the key may act on any account
    Column("secret_hash", String, nullable=False),  # argon2id of the secret; never the secret
    Column("created_at", BigInteger, nullable=False),  # ns since the epoch
    Column("revoked_at", BigInteger),
    Column("last_used_at", BigInteger),  # advisory, written at most once a minute per key
    # MCP submit_order needs a preview_order confirmation token (default on: agents confirm)
    Column("confirm_orders", Boolean, nullable=False, server_default=true()),
    # `keys rotate`: the secret before the last rotation, accepted until previous_valid_until
    Column("previous_secret_hash", String),
    Column("previous_valid_until", BigInteger),  # ns since the epoch
)

bars = Table(
    "bars",
    metadata,
    # 1-minute bars aggregated from the quote stream; longer timeframes are rolled up on read.
    Column("symbol", String, primary_key=True),
    Column("ts", BigInteger, primary_key=True),  # start of the minute, ns since the epoch
    Column("open", Dec, nullable=False),
    Column("high", Dec, nullable=False),
    Column("low", Dec, nullable=False),
    Column("close", Dec, nullable=False),
    Column("n", Integer, nullable=False),  # quotes folded into the bar
    Column("volume", Dec),  # traded volume; None when the provider reports none (the simulator)
)

# History (0006): bars of real or simulated prices per source, read into numpy columns. By
# default these live in a database of their own (settings.resolved_history_url), so a big
# import never holds SQLite's one write lock on the journal; the same migration chain runs
# there, leaving the journal tables of that file empty.
history_bars = Table(
    "history_bars",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("source", String, primary_key=True),  # simulator, sample, import:<stem>, a provider
    Column("timeframe", String, primary_key=True),  # 1Min ... 1Day (HISTORY_TIMEFRAMES)
    Column("ts", BigInteger, primary_key=True),  # start of the bar, ns since the epoch
    Column("open", Double, nullable=False),
    Column("high", Double, nullable=False),
    Column("low", Double, nullable=False),
    Column("close", Double, nullable=False),
    Column("volume", Double),  # NULL: not reported
    Column("adj_factor", Double),  # adjusted close / close; NULL: none known
    # The rows are only ever read by primary-key range: a clustered table saves the rowid
    # b-tree and its second index (see benchmarks/history_store.py for the measurement).
    sqlite_with_rowid=False,
)

# History blocks (0013): each series' bars packed per block of time, what reads are served
# from; rebuilt from history_bars by every writer in its transaction (adapters/history/
# sql_blocks.py has the layout).
history_blocks = Table(
    "history_blocks",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("source", String, primary_key=True),
    Column("timeframe", String, primary_key=True),
    Column("block", BigInteger, primary_key=True),  # bar start >> sql_blocks.block_shift
    Column("first_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

history_instruments = Table(
    "history_instruments",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("tick_size", String, nullable=False),  # decimal text
    Column("lot_size", String, nullable=False),
    Column("source", String, nullable=False),  # the import or provider that registered it
    Column("created_ns", BigInteger, nullable=False),
)

#: stored backtest results (mcp_trading.backtest.store): the searchable columns and the summary
#: beside the whole result, zlib-compressed JSON (BacktestResult.to_json)
backtests = Table(
    "backtests",
    metadata,
    Column("id", String, primary_key=True),  # uuid4 hex
    Column("created_ns", BigInteger, nullable=False),
    Column("strategy", String, nullable=False),
    Column("symbols", String, nullable=False),  # comma-separated, the run's order
    Column("start", String, nullable=False),  # ISO date
    Column("end", String, nullable=False),
    Column("summary", Text, nullable=False),  # JSON of BacktestResult.summary()
    Column("payload", LargeBinary, nullable=False),
    Index(None, "created_ns"),
)


#: stored optimizer runs (mcp_trading.services.optimizer.runs): the searchable columns, the
#: summary, and the request with its whole answer as zlib-compressed JSON (to reproduce it)
optimizer_runs = Table(
    "optimizer_runs",
    metadata,
    Column("id", String, primary_key=True),  # uuid4 hex
    Column("created_ns", BigInteger, nullable=False),
    Column("kind", String, nullable=False),  # optimize | frontier | evaluate
    Column("method", String, nullable=False),  # the method (evaluate: comma-separated)
    Column("symbols", String, nullable=False),  # comma-separated, the run's order
    Column("summary", Text, nullable=False),  # JSON
    Column("payload", LargeBinary, nullable=False),  # zlib JSON {request, result}
    Index(None, "created_ns"),
)

#: rebalance previews awaiting their confirm: the exact order list, whom the token was issued
#: to, the token's sha256 (never the token), its expiry; `state` open -> confirmed | refused
optimizer_previews = Table(
    "optimizer_previews",
    metadata,
    Column("id", String, primary_key=True),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("owner", String, nullable=False),
    Column("token_sha256", String, nullable=False),
    Column("account_id", String, nullable=False),
    Column("run_id", String, nullable=True),
    Column("state", String, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: orders, targets, figures
    Column("answer", Text, nullable=True),  # JSON: the confirm's answer
)


# Archival (0009, mcp_trading.dataops.archive): rows moved out of the hot tables, column for
# column, in one transaction per batch; `archive_horizons` says how far each kind was moved
# (reads before it say so) and which snapshot the hot journal starts after.
def _archive_of(table: Table, *indexes: Index, **kw: Any) -> Table:
    return Table(f"{table.name}_archive", metadata, *(c._copy() for c in table.columns),
                 *indexes, **kw)


orders_archive = _archive_of(orders, Index(None, "account_id", "client_order_id"),
                             Index(None, "created_at"))
fills_archive = _archive_of(fills, Index(None, "order_id"), Index(None, "account_id", "ts"))
bars_archive = _archive_of(bars)
history_bars_archive = _archive_of(history_bars, sqlite_with_rowid=False)

archive_horizons = Table(
    "archive_horizons",
    metadata,
    Column("name", String, primary_key=True),  # orders, fills, bars, journal, history:<SYM>
    Column("before_ns", BigInteger, nullable=False),  # rows older than this were moved
    Column("seq", BigInteger),  # journal: the snapshot seq the hot journal starts after
    Column("updated_at", BigInteger, nullable=False),
)


#: stored reports (0010, mcp_trading.reports.store): per trading day and report name the
#: JSON document, the HTML page and the text rendering, each zlib-compressed
reports = Table(
    "reports",
    metadata,
    Column("day", String, primary_key=True),  # ISO date of the trading day
    Column("name", String, primary_key=True),  # daily_trading, daily_risk, performance, ...
    Column("created_ns", BigInteger, nullable=False),
    Column("summary", Text, nullable=False),  # JSON: what the list shows
    Column("body", LargeBinary, nullable=False),  # zlib JSON document
    Column("html", LargeBinary, nullable=False),  # zlib HTML page
    Column("text", LargeBinary, nullable=False),  # zlib terminal text (no colour codes)
)


#: intraday equity samples (0011, mcp_trading.adapters.store.equity_samples): each account's
#: equity and cash every MCP_TRADING_EQUITY_SAMPLE_S seconds, for the intraday chart. Not
#: journaled (a chart series, re-measurable, pruned after MCP_TRADING_EQUITY_SAMPLE_KEEP_DAYS)
equity_samples = Table(
    "equity_samples",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("ts", BigInteger, primary_key=True),  # ns since the epoch
    Column("equity", Dec, nullable=False),
    Column("cash", Dec, nullable=False),
    Index(None, "ts"),  # the pruning's range
)
