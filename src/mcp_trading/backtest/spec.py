"""What a backtest is asked to do: `BacktestSpec`, checked when it is made.

A spec is frozen and complete: with `limits`, `commission` and `slippage` resolved (the
engine stores the resolved spec in the result), the same spec on the same bars gives the same
trades, whatever the platform's defaults are later. `from_dict` takes loose input (JSON
values, the CLI's text) and `as_dict` writes the JSON form; they round-trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.models import CommissionModel, SlippageModel
from mcp_trading.domain.numbers import BPS, CASH, parse_decimal
from mcp_trading.domain.risk import LIMIT_BOUNDS, RiskLimits

__all__ = ["MAX_SYMBOLS", "TIMEFRAMES", "BacktestSpec", "LimitsChoice", "commission_model",
           "day_bounds_ns", "slippage_model"]

#: timeframe -> nominal seconds per bar (the bar store's timeframes)
TIMEFRAMES: dict[str, int] = {"1Min": 60, "5Min": 300, "15Min": 900, "30Min": 1800,
                              "1Hour": 3600, "1Day": 86_400}
MAX_SYMBOLS = 500
LimitsChoice = Literal["none", "live"] | Mapping[str, object]
_NS = 1_000_000_000


def day_bounds_ns(start: date, end: date) -> tuple[int, int]:
    """[00:00 UTC of start, the last ns of end's UTC day]: every bar whose ts falls on those
    dates (a daily bar's ts is midnight New York, 04:00 or 05:00 UTC the same date)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return int(lo.timestamp()) * _NS, int(hi.timestamp()) * _NS - 1


def _symbols(raw: object) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise InvalidError("symbols must be a list of symbols or comma-separated text, e.g. "
                           "AAPL,MSFT", field="symbols")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidError(f"symbols holds {item!r}; each symbol is non-empty text",
                               field="symbols")
        symbol = item.strip().upper()
        if len(symbol) > 32:
            raise InvalidError(f"symbol {symbol[:32]!r}… is longer than 32 characters",
                               field="symbols")
        if symbol not in out:
            out.append(symbol)
    if not out:
        raise InvalidError("symbols is empty; give at least one symbol, e.g. AAPL",
                           field="symbols")
    if len(out) > MAX_SYMBOLS:
        raise InvalidError(f"{len(out)} symbols; a backtest takes at most {MAX_SYMBOLS}",
                           field="symbols")
    return tuple(out)


def _date(name: str, raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise InvalidError(f"{name} is {str(raw)[:40]!r}; give a date as YYYY-MM-DD", field=name)


def _limits(raw: object) -> LimitsChoice:
    if raw in ("none", "live"):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidError(f"limits is {str(raw)[:40]!r}; use 'none', 'live' or an object of "
                           f"limits ({', '.join(sorted(LIMIT_BOUNDS))})", field="limits")
    RiskLimits().updated(raw)  # names and values checked (InvalidLimitError names the limit)
    return dict(raw)


@dataclass(frozen=True, kw_only=True)
class BacktestSpec:
    """One backtest: a strategy with parameters over stored bars of `symbols` in [start, end].

    `params` are the strategy's (checked against its Params by the engine); `source` the
    history source (None: `read_bars`' choice per symbol); `commission`/`slippage` None take
    the settings' defaults; `limits` "none" (only the venue's own rules: buying power, no
    naked shorts unless `allow_short`), "live" (the account's live limits, given to the
    engine by the caller) or an object of pre-trade limits (domain.risk names).
    """

    strategy: str
    symbols: tuple[str, ...]
    start: date
    end: date
    timeframe: str = "1Day"
    params: Mapping[str, object] = field(default_factory=dict)
    cash: Decimal = Decimal(100_000)
    source: str | None = None
    commission: CommissionModel | None = None
    slippage: SlippageModel | None = None
    limits: LimitsChoice = "none"
    allow_short: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, str) or not self.strategy.strip():
            raise InvalidError("strategy is required: the name of a strategy (GET /strategies "
                               "lists them)", field="strategy")
        object.__setattr__(self, "symbols", _symbols(self.symbols))
        object.__setattr__(self, "start", _date("start", self.start))
        object.__setattr__(self, "end", _date("end", self.end))
        if self.start > self.end:
            raise InvalidError(f"start {self.start} is after end {self.end}; give start <= end",
                               field="start")
        if self.timeframe not in TIMEFRAMES:
            raise InvalidError(f"timeframe {self.timeframe!r} is unknown; use one of "
                               f"{', '.join(TIMEFRAMES)}", field="timeframe",
                               extra={"allowed": list(TIMEFRAMES)})
        if not isinstance(self.params, Mapping):
            raise InvalidError("params must be an object of parameter values", field="params")
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "cash", parse_decimal("cash", self.cash, CASH,
                                                       error=_invalid))
        object.__setattr__(self, "limits", _limits(self.limits))
        if self.source is not None and (not isinstance(self.source, str)
                                        or not self.source.strip()):
            raise InvalidError("source must be a history source name, or omitted",
                               field="source")

    @property
    def range_ns(self) -> tuple[int, int]:
        """The bars' ts bounds, inclusive (see `day_bounds_ns`)."""
        return day_bounds_ns(self.start, self.end)

    def resolved(self, *, params: Mapping[str, object], commission: CommissionModel,
                 slippage: SlippageModel, limits: Mapping[str, object]) -> BacktestSpec:
        """This spec with every parameter (defaults included), the models and the limits
        fixed: what the result records, and what reruns it identically."""
        return replace(self, params=dict(params), commission=commission, slippage=slippage,
                       limits=dict(limits))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (decimals as text, dates ISO)."""
        return {"strategy": self.strategy, "symbols": list(self.symbols),
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "timeframe": self.timeframe, "params": _jsonable(self.params),
                "cash": str(self.cash), "source": self.source,
                "commission": None if self.commission is None else {
                    "per_share": str(self.commission.per_share),
                    "bps": str(self.commission.bps), "minimum": str(self.commission.minimum)},
                "slippage": None if self.slippage is None else {"bps": str(self.slippage.bps)},
                "limits": self.limits if isinstance(self.limits, str)
                else _jsonable(self.limits), "allow_short": self.allow_short}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BacktestSpec:
        """A spec from loose JSON input; unknown fields are refused (InvalidError names them)."""
        known = {"strategy", "symbols", "start", "end", "timeframe", "params", "cash",
                 "source", "commission", "slippage", "limits", "allow_short"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidError(f"{unknown[0]!r} is not a backtest field; allowed: "
                               f"{', '.join(sorted(known))}", field=unknown[0])
        for name in ("strategy", "symbols", "start", "end"):
            if raw.get(name) in (None, ""):
                raise InvalidError(f"{name} is required", field=name)
        args: dict[str, Any] = {k: raw[k] for k in ("strategy", "symbols", "start", "end",
                                                   "timeframe", "params", "source", "limits")
                                if raw.get(k) is not None}
        if raw.get("cash") is not None:
            args["cash"] = raw["cash"]
        if raw.get("commission") is not None:
            args["commission"] = commission_model(raw["commission"])
        if raw.get("slippage") is not None:
            args["slippage"] = slippage_model(raw["slippage"])
        if raw.get("allow_short") is not None:
            if not isinstance(raw["allow_short"], bool):
                raise InvalidError("allow_short must be true or false", field="allow_short")
            args["allow_short"] = raw["allow_short"]
        return cls(**args)


def _invalid(name: str, message: str) -> InvalidError:
    return InvalidError(f"{name} {message}", field=name)


def commission_model(raw: object) -> CommissionModel:
    """A commission model from `{"per_share", "bps", "minimum"}` (each optional, >= 0)."""
    if isinstance(raw, CommissionModel):
        return raw
    if not isinstance(raw, Mapping) or set(raw) - {"per_share", "bps", "minimum"}:
        raise InvalidError("commission must be an object of per_share, bps and minimum",
                           field="commission")
    values = {k: parse_decimal(f"commission.{k}", v, BPS if k == "bps" else CASH,
                               error=_invalid) for k, v in raw.items()}
    return CommissionModel(**values)


def slippage_model(raw: object) -> SlippageModel:
    """A slippage model from `{"bps": N}` (0..10,000)."""
    if isinstance(raw, SlippageModel):
        return raw
    if not isinstance(raw, Mapping) or set(raw) != {"bps"}:
        raise InvalidError("slippage must be an object {\"bps\": N}", field="slippage")
    return SlippageModel(bps=parse_decimal("slippage.bps", raw["bps"], BPS, error=_invalid))


def _jsonable(values: Mapping[str, object]) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}

