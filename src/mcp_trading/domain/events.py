"""Events: immutable records of what the kernel decided. State is a fold over them.

Names are past tense. Every event carries `ts` (event time, ns since the epoch). The journal
assigns each a monotonic sequence number; replaying them in order rebuilds the exact state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.trading_state import TradingState

__all__ = [
    "EVENT_TYPES",
    "AccountOpened",
    "EquitySnapshotted",
    "Event",
    "LimitsSet",
    "MaintenanceChanged",
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "OrderRouted",
    "OrderTrailMoved",
    "OrderTriggered",
    "StrategyInstanceStarted",
    "StrategyInstanceStopped",
    "TradingDayStarted",
    "TradingStateChanged",
]


class AccountOpened(NamedTuple):
    account_id: str
    currency: str
    cash: Decimal
    allow_short: bool
    ts: int
    internal: bool = False  # the platform's own (self-test): outside platform halts and totals


class OrderAccepted(NamedTuple):
    order_id: str
    account_id: str
    request: OrderRequest  # exactly what the client asked for
    ref_price: Decimal | None  # reference price used by risk (reservation and collar)
    reserved: Decimal  # buying power set aside for this order
    routed: bool  # at the venue at once (no latency model)
    active_at: int  # when the venue will see it (ts + latency)
    replaces: str | None
    attribution: str | None  # who placed it: "key:<id>", "agent:<name>", "cli", ...
    ts: int
    #: the symbol's mid ((bid + ask) / 2) when the kernel accepted it: the benchmark of the
    #: daily report's slippage; None when no quote was known (and in events before 0.x)
    arrival_mid: Decimal | None = None


class OrderRejected(NamedTuple):
    order_id: str
    account_id: str
    request: OrderRequest
    code: str  # stable reason code, e.g. RISK_MAX_NOTIONAL
    reason: str  # the message with the figures
    attribution: str | None
    ts: int


class OrderRouted(NamedTuple):
    order_id: str
    ts: int


class OrderFilled(NamedTuple):
    order_id: str
    qty: Decimal
    price: Decimal
    commission: Decimal
    ts: int


class OrderCanceled(NamedTuple):
    order_id: str
    reason: str
    ts: int


class OrderExpired(NamedTuple):
    order_id: str
    ts: int


class OrderReplaced(NamedTuple):
    order_id: str
    replaced_by: str
    ts: int


class OrderTriggered(NamedTuple):
    order_id: str
    ts: int


class OrderTrailMoved(NamedTuple):
    order_id: str
    watermark: Decimal
    stop_price: Decimal
    ts: int


class TradingStateChanged(NamedTuple):
    account_id: str | None  # None: the platform level
    state: TradingState
    reason: str
    actor: str
    ts: int


class LimitsSet(NamedTuple):
    account_id: str | None  # None: the global limits
    limits: dict[str, str | None]  # RiskLimits.to_wire()
    actor: str
    ts: int


class MaintenanceChanged(NamedTuple):
    active: bool  # while active, new orders are refused with MAINTENANCE
    reason: str
    actor: str
    ts: int


class TradingDayStarted(NamedTuple):
    day: str  # ISO date of the session
    session_open: int  # ns
    session_close: int  # ns; when day orders expire
    equities: dict[str, Decimal]  # account -> equity at the start of the day
    ts: int


class StrategyInstanceStarted(NamedTuple):
    instance_id: str
    strategy: str  # a name of the strategy registry
    params: str  # the parsed parameters, a JSON object (domain/instances.py)
    account_id: str
    symbols: tuple[str, ...]
    timeframe: str  # one of domain.instances.INSTANCE_TIMEFRAMES
    started_by: str  # the actor
    ts: int


class StrategyInstanceStopped(NamedTuple):
    instance_id: str
    reason: str  # "stopped by key:...", or the fault of a callback that raised or hung
    actor: str  # who stopped it: a caller's actor, or "strategy-runner"
    ts: int


class EquitySnapshotted(NamedTuple):
    """One account's valuation at a moment: at the session close (reason "close") or on demand
    ("manual"). The equity history the performance report reads; journaled, so it survives
    restarts, backups and restores like the book it values."""

    account_id: str
    day: str  # ISO date of the trading day (America/New_York) the valuation belongs to
    equity: Decimal  # cash + sum of qty x mark
    cash: Decimal
    positions: tuple[tuple[str, Decimal, Decimal], ...]  # (symbol, signed qty, mark), qty != 0
    reason: str  # "close" or "manual"
    actor: str
    ts: int


Event = (
    AccountOpened | OrderAccepted | OrderRejected | OrderRouted | OrderFilled | OrderCanceled
    | OrderExpired | OrderReplaced | OrderTriggered | OrderTrailMoved | TradingStateChanged
    | LimitsSet | TradingDayStarted | MaintenanceChanged | StrategyInstanceStarted
    | StrategyInstanceStopped | EquitySnapshotted
)

#: Stable numeric kinds for the journal; never renumber, only append.
EVENT_TYPES: dict[int, type[Event]] = {
    1: AccountOpened,
    2: OrderAccepted,
    3: OrderRejected,
    4: OrderRouted,
    5: OrderFilled,
    6: OrderCanceled,
    7: OrderExpired,
    8: OrderReplaced,
    9: OrderTriggered,
    10: OrderTrailMoved,
    11: TradingStateChanged,
    12: LimitsSet,
    13: TradingDayStarted,
    14: MaintenanceChanged,
    15: StrategyInstanceStarted,
    16: StrategyInstanceStopped,
    17: EquitySnapshotted,
}
