"""Pre-trade risk: limits, reason codes and the checks themselves (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from mcp_trading.domain.errors import DomainError

__all__ = [
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


class InvalidLimitError(DomainError):
    code = "INVALID_LIMIT"

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.field = name


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
    return f"{value:,.2f} {currency}"


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
        return cls().updated(data)

    def updated(self, changes: Mapping[str, object]) -> RiskLimits:
        """A copy with `changes` applied; names and values are validated, `None` clears."""
        known = {f.name for f in fields(self) if f.init}
        parsed: dict[str, object] = {}
        for name, raw in changes.items():
            if name not in known:
                raise InvalidLimitError(name, f"unknown limit; known limits: {', '.join(sorted(known))}")
            if raw is None:
                parsed[name] = None
                continue
            if isinstance(raw, bool):
                raise InvalidLimitError(name, "must be a number or null")
            try:
                value = Decimal(str(raw))
            except InvalidOperation:
                raise InvalidLimitError(name, f"must be a number or null, got {raw!r}") from None
            if not value.is_finite() or value <= 0:
                raise InvalidLimitError(name, f"must be > 0 (or null to disable), got {raw}")
            if name.endswith("_pct") and value > 100:
                raise InvalidLimitError(name, f"is a percentage and must be <= 100, got {raw}")
            if name in _INT_FIELDS:
                if value != value.to_integral_value():
                    raise InvalidLimitError(name, f"must be a whole number, got {raw}")
                parsed[name] = int(value)
            else:
                parsed[name] = value
        return replace(self, **parsed)  # type: ignore[arg-type]
