"""Pre-trade risk: limits, reason codes and the checks themselves (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.numbers import (
    COUNT,
    MONEY,
    OUTPUT_EXP,
    PERCENT,
    QUANTITY,
    SECONDS,
    Bounds,
    parse_decimal,
    to_text,
)

__all__ = [
    "LIMIT_BOUNDS",
    "InvalidLimitError",
    "Reason",
    "Refusal",
    "RiskLimits",
    "fmt_money",
    "loss_floor",
]


class Reason(StrEnum):
    """Stable reason codes carried by every refusal."""

    MAX_ORDER_QTY = "RISK_MAX_ORDER_QTY"
    MAX_NOTIONAL = "RISK_MAX_NOTIONAL"
    MAX_POSITION = "RISK_MAX_POSITION"
    MAX_GROSS_EXPOSURE = "RISK_MAX_GROSS_EXPOSURE"
    PRICE_COLLAR = "RISK_PRICE_COLLAR"
    STALE_QUOTE = "RISK_STALE_QUOTE"
    NO_QUOTE = "RISK_NO_QUOTE"
    RATE_LIMIT = "RISK_RATE_LIMIT"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    BUYING_POWER = "RISK_BUYING_POWER"
    SHORT_SALE = "RISK_SHORT_SALE"
    DAILY_LOSS = "RISK_DAILY_LOSS"
    MAX_DRAWDOWN = "RISK_MAX_DRAWDOWN"
    TRADING_HALTED = "TRADING_HALTED"
    TRADING_REDUCING = "TRADING_REDUCING"
    MARKET_CLOSED = "MARKET_CLOSED"
    NOT_TRADABLE = "INSTRUMENT_NOT_TRADABLE"
    MAINTENANCE = "MAINTENANCE"


class Refusal(NamedTuple):
    code: str
    message: str


class InvalidLimitError(InvalidError):
    code = "INVALID_LIMIT"

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}", field=name)


def loss_floor(limits: RiskLimits, day_start: Decimal, day_peak: Decimal) -> Decimal | None:
    """Equity at or below which a daily-loss or drawdown limit acts (None: neither is set).

    Kept as one threshold so the check on every fill and quote is a single comparison.
    """
    floor: Decimal | None = None
    if limits.daily_loss_limit is not None:
        floor = day_start - limits.daily_loss_limit
    if limits.max_drawdown_pct is not None:
        dd_floor = day_peak * (1 - limits.max_drawdown_pct / 100)
        floor = dd_floor if floor is None else max(floor, dd_floor)
    return floor


def fmt_money(value: Decimal, currency: str = "USD") -> str:
    """`1,234.50 USD` for messages; bounded text for a value too large to group that way."""
    if value.is_finite() and value.adjusted() <= OUTPUT_EXP:
        return f"{value:,.2f} {currency}"
    return f"{to_text(value)} {currency}"


#: the bounds each limit's value is parsed with (None clears a limit; zero is never a limit)
LIMIT_BOUNDS: dict[str, Bounds] = {
    "max_order_qty": QUANTITY,
    "max_order_notional": MONEY,
    "max_position_qty": QUANTITY,
    "max_gross_exposure": MONEY,
    "price_collar_pct": PERCENT,
    "max_quote_age_s": SECONDS,
    "max_orders_per_second": COUNT,
    "daily_loss_limit": MONEY,
    "max_drawdown_pct": PERCENT,
}
_INT_FIELDS = frozenset({"max_orders_per_second"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Every limit is optional; `None` means "not enforced". Percentages are 0-100."""

    max_order_qty: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position_qty: Decimal | None = None  # per symbol, absolute
    max_gross_exposure: Decimal | None = None  # sum of |position| x mark (+ the order)
    price_collar_pct: Decimal | None = None  # limit price vs reference price
    max_quote_age_s: Decimal | None = None  # market orders need a quote at most this old
    max_orders_per_second: int | None = None
    daily_loss_limit: Decimal | None = None  # realised + unrealised since day start -> REDUCING
    max_drawdown_pct: Decimal | None = None  # from the day's equity peak -> HALTED
    # derived once, for the hot path: the quote age limit in integer nanoseconds
    max_quote_age_ns: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_quote_age_s is not None:
            object.__setattr__(self, "max_quote_age_ns", int(self.max_quote_age_s * 1_000_000_000))

    def to_wire(self) -> dict[str, str | None]:
        return {f.name: None if (v := getattr(self, f.name)) is None else str(v) for f in fields(self)
                if f.init}

    @classmethod
    def from_wire(cls, data: dict[str, str | None]) -> RiskLimits:
        """Limits as journaled. Not re-checked against today's bounds: they were valid when
        they were written, and recovery must never refuse what the journal holds."""
        known = {f.name for f in fields(cls) if f.init}
        parsed: dict[str, object] = {}
        for name, raw in data.items():
            if name not in known:
                raise InvalidLimitError(name, "unknown limit in the journal")
            if raw is None:
                parsed[name] = None
            else:
                parsed[name] = int(Decimal(raw)) if name in _INT_FIELDS else Decimal(raw)
        return cls(**parsed)  # type: ignore[arg-type]

    def updated(self, changes: Mapping[str, object]) -> RiskLimits:
        """A copy with `changes` applied; names and values are validated, `None` clears."""
        parsed: dict[str, object] = {}
        for name, raw in changes.items():
            bounds = LIMIT_BOUNDS.get(name)
            if bounds is None:
                raise InvalidLimitError(name, "unknown limit; known limits: "
                                        + ", ".join(sorted(LIMIT_BOUNDS)))
            if raw is None:
                parsed[name] = None
                continue
            value = parse_decimal(name, raw, bounds, error=InvalidLimitError)
            parsed[name] = int(value) if name in _INT_FIELDS else value
        return replace(self, **parsed)  # type: ignore[arg-type]
