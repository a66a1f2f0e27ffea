"""Tool inputs and outputs. Outputs name the fields agents rely on and allow the rest.

The order tools' arguments are the one order schema (faces/order_schema.py), flat.

Decimals travel as strings (Alpaca's convention), times as ISO 8601 UTC.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_trading.faces.order_schema import Number

__all__ = [
    "AccountOut", "AccountsOut", "AlertsOut", "BarOut", "BarsOut", "ClockOut", "ExposuresOut",
    "HaltOut", "HistoryFetchOut", "HistoryOut", "LimitsOut", "Number", "OrderCheckOut",
    "OrderListOut", "OrderOut",
    "PortfolioPerformanceOut",
    "PortfolioPositionsOut",
    "PortfolioSummaryOut", "PositionsOut", "PreviewOut", "ProviderChangeOut", "ProvidersOut",
    "QuoteOut", "QuotesOut", "ReplayOut", "ReportTextOut", "ReportsOut", "RiskStatusOut",
    "SeriesOut", "SubmitOut", "SymbolsOut",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class QuoteOut(_Out):
    symbol: str
    bid: str
    ask: str
    ts: str | None


class QuotesOut(_Out):
    quotes: dict[str, QuoteOut]
    missing: list[str]


class SymbolsOut(_Out):
    symbols: list[dict[str, Any]]


class BarOut(_Out):
    t: str
    o: str
    h: str
    l: str  # noqa: E741 - Alpaca's name for the low
    c: str
    v: str | None
    n: int | None


class BarsOut(_Out):
    symbol: str
    timeframe: str
    source: str
    adjustment: Literal["raw", "all"]
    adjusted: bool
    note: str | None
    bars: list[BarOut]
    next_page_token: str | None


class SeriesOut(_Out):
    symbol: str
    source: str
    timeframe: str
    first: str
    last: str
    bars: int


class HistoryOut(_Out):
    series: list[SeriesOut]


class ClockOut(_Out):
    is_open: bool
    timestamp: str | None
    next_open: str | None
    next_close: str | None


class OrderOut(_Out):
    id: str
    client_order_id: str | None
    account_id: str
    symbol: str
    side: str
    qty: str | None
    status: str | None
    filled_qty: str | None


class SubmitOut(_Out):
    order: OrderOut
    environment: Literal["paper"] = "paper"


class OrderListOut(_Out):
    orders: list[OrderOut]
    next_cursor: str | None


class PositionsOut(_Out):
    positions: list[dict[str, Any]]


class AccountOut(_Out):
    id: str
    cash: str | None
    equity: str | None
    buying_power: str | None
    trading_state: str


class AccountsOut(_Out):
    accounts: list[AccountOut]


class OrderCheckOut(_Out):
    would_accept: bool
    code: str | None
    message: str
    account_id: str
    reference_price: str | None
    reserve: str | None
    buying_power: str | None
    #: a repeated client_order_id with the same parameters: the order a submit returns
    idempotent_retry: dict[str, str] | None = None


class PreviewOut(OrderCheckOut):
    estimated_notional: str | None
    confirmation_token: str
    expires_in_s: float


class HaltOut(_Out):
    trading_status: str
    reason: str
    canceled_count: int


class RiskStatusOut(_Out):
    risk_status: Literal["ok", "warning", "breach"]
    reasons: list[str]


class LimitsOut(_Out):
    global_: dict[str, Any] = Field(alias="global")
    accounts: dict[str, dict[str, Any]]
    limit_names: list[str]


class ExposuresOut(_Out):
    as_of: str | None
    accounts: list[dict[str, Any]]
    total: dict[str, Any]


class PortfolioSummaryOut(_Out):
    as_of: str | None
    accounts: list[dict[str, Any]]
    total: dict[str, Any]


class PortfolioPositionsOut(_Out):
    as_of: str | None
    accounts: list[dict[str, Any]]


class PortfolioPerformanceOut(_Out):
    as_of: str | None
    accounts: list[dict[str, Any]]


class ProvidersOut(_Out):
    active_providers: list[str]
    providers: list[dict[str, Any]]


class ProviderChangeOut(_Out):
    provider: dict[str, Any]
    changed: bool
    active_providers: list[str]


class HistoryFetchOut(_Out):
    symbol: str
    timeframe: str
    served_by: str
    fetched: int
    complete: bool
    bars: int
    providers: list[dict[str, Any]]


class ReplayOut(_Out):
    state: str
    speed: float
    replay_time: str | None
    symbols: list[str]
    bars_left: dict[str, int]


class AlertsOut(_Out):
    alerts: list[dict[str, Any]]
    open_alerts: int


class ReportsOut(_Out):
    reports: list[dict[str, Any]]


class ReportTextOut(_Out):
    date: str
    name: str
    format: str
    media_type: str
    text: str
