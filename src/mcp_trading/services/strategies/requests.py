"""A backtest request from loose input (a REST body, MCP arguments, the CLI's options) to a
`BacktestSpec`, checked field by field: one parser, so every face refuses the same input with
the same message.

What is checked here, before a run is queued: the fields (an unknown one is named), their
types, the dates (YYYY-MM-DD, start not after end), the symbols, the cash, the commission and
slippage models, the limits and the timeframe; the strategy and its parameters against the
registry (unknown strategy or parameter, a value out of range). What needs the bar store — a
symbol or a range with no stored data — is checked by the engine when the run starts, and
says what range exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mcp_trading.backtest.spec import BacktestSpec
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.models import CommissionModel, SlippageModel
from mcp_trading.domain.numbers import BPS, CASH, MONEY, Bounds, parse_decimal
from mcp_trading.strategy.loader import StrategyRegistry

__all__ = ["BACKTEST_FIELDS", "MAX_SYMBOLS", "MAX_WAIT_S", "TIMEFRAMES", "BacktestRequest",
           "parse_request"]

#: the fields of a backtest request, in the order the docs list them
BACKTEST_FIELDS = ("strategy", "symbols", "start", "end", "timeframe", "params", "cash",
                   "source", "commission", "slippage_bps", "limits", "wait_s")
TIMEFRAMES = ("1Min", "5Min", "15Min", "30Min", "1Hour", "1Day")
MAX_SYMBOLS = 100
MAX_WAIT_S = 300.0
DEFAULT_WAIT_S = 30.0
_COMMISSION_FIELDS = ("per_share", "bps", "minimum")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{0,15}")  # the universe's rule (feeds/universe.py)
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
_PER_SHARE = Bounds("a commission per share", Decimal(1000), zero_ok=True)


def _error(field: str, why: str) -> InvalidError:
    return InvalidError(f"{field}: {why}", code="INVALID_BACKTEST", field=field)


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    """A checked request: the run's spec, and how long the caller waits for it."""

    spec: BacktestSpec
    wait_s: float = DEFAULT_WAIT_S


def parse_request(body: Mapping[str, Any], registry: StrategyRegistry) -> BacktestRequest:
    """The request in `body` (see the module docstring); InvalidError names the field."""
    unknown = sorted(set(body) - set(BACKTEST_FIELDS))
    if unknown:
        raise InvalidError(f"{unknown[0]}: not a field of a backtest; allowed: "
                           f"{', '.join(BACKTEST_FIELDS)}", code="INVALID_BACKTEST",
                           field=unknown[0], extra={"allowed": list(BACKTEST_FIELDS)})
    for name in ("strategy", "symbols", "start", "end"):
        if body.get(name) in (None, "", []):
            raise _error(name, "is required")
    strategy = _text("strategy", body["strategy"])
    cls = registry.get(strategy)
    raw_params = body.get("params") or {}
    if not isinstance(raw_params, Mapping):
        raise _error("params", "must be an object of parameter: value")
    params = cls.Params.parse(raw_params).as_dict()
    start, end = _day("start", body["start"]), _day("end", body["end"])
    if start > end:
        raise _error("start", f"{start} is after end {end}; start must be on or before end")
    spec = BacktestSpec(
        strategy=cls.name, symbols=_symbols(body["symbols"]), start=start, end=end,
        timeframe=_timeframe(body.get("timeframe")), params=params,
        cash=(parse_decimal("cash", body["cash"], MONEY, _error)
              if body.get("cash") is not None else Decimal(100_000)),
        source=_source(body.get("source")), commission=_commission(body.get("commission")),
        slippage=(None if body.get("slippage_bps") is None else SlippageModel(
            bps=parse_decimal("slippage_bps", body["slippage_bps"], BPS, _error))),
        limits=_limits(body.get("limits")))
    return BacktestRequest(spec, _wait(body.get("wait_s")))


def _text(field: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _error(field, f"must be text, got {type(raw).__name__}")
    if len(raw) > 64:
        raise _error(field, "must be at most 64 characters")
    return raw.strip()


def _day(field: str, raw: object) -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        raise _error(field, f"{str(raw)[:40]!r} is not a date; use YYYY-MM-DD, e.g. 2010-01-04")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise _error(field, f"{raw!r} is not a date ({exc})") from None


def _symbols(raw: object) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise _error("symbols", "must be a list of symbols or a comma-separated text, e.g. AAPL,MSFT")
    if len(items) > MAX_SYMBOLS:
        raise _error("symbols", f"{len(items)} symbols; at most {MAX_SYMBOLS} per run")
    found: list[str] = []
    for item in items:
        symbol = item.strip().upper() if isinstance(item, str) else None
        if not symbol or not _SYMBOL.fullmatch(symbol):
            raise _error("symbols", f"{str(item)[:20]!r} is not a symbol (A-Z, 0-9, . - /; at "
                                    "most 16 characters)")
        if symbol in found:
            raise _error("symbols", f"{symbol} is named twice")
        found.append(symbol)
    return tuple(found)


def _timeframe(raw: object) -> str:
    if raw is None:
        return "1Day"
    if raw not in TIMEFRAMES:
        raise InvalidError(f"timeframe: {str(raw)[:20]!r} is not a timeframe; use one of "
                           f"{', '.join(TIMEFRAMES)}", code="INVALID_BACKTEST", field="timeframe",
                           extra={"allowed": list(TIMEFRAMES)})
    return str(raw)


def _source(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _SOURCE.fullmatch(raw):
        raise _error("source", "must be the name of a stored source (e.g. sample, import:aapl); "
                               "`mcp-trading data list` shows them")
    return raw


def _commission(raw: object) -> CommissionModel | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise _error("commission", "must be an object with per_share, bps and minimum "
                                   "(each optional, default 0)")
    unknown = sorted(set(raw) - set(_COMMISSION_FIELDS))
    if unknown:
        raise _error(f"commission.{unknown[0]}", f"not a commission field; allowed: "
                                                 f"{', '.join(_COMMISSION_FIELDS)}")
    bounds = {"per_share": _PER_SHARE, "bps": BPS, "minimum": CASH}
    values = {name: parse_decimal(f"commission.{name}", raw[name], bounds[name], _error)
              for name in _COMMISSION_FIELDS if raw.get(name) is not None}
    return CommissionModel(**values)


def _limits(raw: object) -> str | dict[str, Any]:
    if raw is None:
        return "none"
    if raw in ("none", "live"):
        return str(raw)
    if isinstance(raw, Mapping):
        return dict(raw)  # the engine checks the names and values as the risk service does
    raise _error("limits", "must be \"none\" (the venue's rules only), \"live\" (the account's "
                           "live limits) or an object of limit: value")


def _wait(raw: object) -> float:
    if raw is None:
        return DEFAULT_WAIT_S
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= MAX_WAIT_S:
        raise _error("wait_s", f"must be a number of seconds from 0 to {MAX_WAIT_S:g}")
    return float(raw)
