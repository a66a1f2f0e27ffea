"""Tool inputs and outputs. Outputs name the fields agents rely on and allow the rest.

Decimals travel as strings (Alpaca's convention), times as ISO 8601 UTC.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from mcp_trading.domain.numbers import PERCENT, PRICE, QUANTITY, parse_decimal, to_text
from mcp_trading.domain.orders import ORDER_NUMBERS

__all__ = [
    "AccountOut", "AccountsOut", "AlertsOut", "BarsOut", "ClockOut", "ExposuresOut", "HaltOut",
    "LimitsOut", "Number", "OrderArgs", "OrderCheckOut", "OrderListOut", "OrderOut",
    "PortfolioPerformanceOut",
    "PortfolioPositionsOut",
    "PortfolioSummaryOut", "PositionsOut", "PreviewOut", "ProvidersOut", "QuoteOut", "QuotesOut",
    "RiskStatusOut", "SubmitOut", "SymbolsOut",
]


#: A decimal as agents send it: a JSON number or a numeric string (strict: no bool). Only the
#: type is checked here; the domain parses it with its bounds (digits, places, magnitude), so
#: a bad value is an INVALID_ORDER result naming the field and the bound.
Number = StrictStr | StrictInt | StrictFloat


class OrderArgs(BaseModel):
    """One order, as preview_order / submit_order / check_order take it."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(description="A known instrument, e.g. AAPL (see list_symbols)")
    qty: Number = Field(description="Quantity, a multiple of the lot size; "
                        + QUANTITY.describe())
    side: Literal["buy", "sell"]
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = "market"
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day"
    limit_price: Number | None = Field(None, description="Required for limit and stop_limit; "
                                       + PRICE.describe())
    stop_price: Number | None = Field(None, description="Required for stop and stop_limit; "
                                      + PRICE.describe())
    trail_price: Number | None = Field(None, description="trailing_stop: absolute trail; "
                                       + PRICE.describe())
    trail_percent: Number | None = Field(None, description="trailing_stop: trail in percent, "
                                         "below 100; " + PERCENT.describe())
    client_order_id: str | None = Field(None, max_length=48,
                                        description="Your idempotency key, unique per account")
    extended_hours: bool = False
    account_id: str | None = Field(None, description="Operators only; keys act on their account")

    def payload(self) -> dict[str, Any]:
        """The service payload: unset fields left out, decimals parsed by the domain (with
        their bounds; InvalidOrderError names a bad one) and written canonically, so "1" and
        1 confirm the same previewed order."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            bounds = ORDER_NUMBERS.get(name)
            out[name] = value if bounds is None else to_text(parse_decimal(name, value, bounds))
        return out


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


class BarsOut(_Out):
    symbol: str
    timeframe: str
    bars: list[dict[str, Any]]


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


class AlertsOut(_Out):
    alerts: list[dict[str, Any]]
    open_alerts: int
