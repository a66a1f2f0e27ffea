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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_trading.backtest.spec import TIMEFRAMES, BacktestSpec, commission_model
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.numbers import BPS, MONEY, parse_decimal
from mcp_trading.strategy.loader import StrategyRegistry

__all__ = ["BACKTEST_FIELDS", "MAX_WAIT_S", "TIMEFRAMES", "BacktestRequest", "parse_request"]

#: the fields of a backtest request, in the order the docs list them
BACKTEST_FIELDS = ("strategy", "symbols", "start", "end", "timeframe", "params", "cash",
                   "source", "commission", "slippage_bps", "limits", "wait_s")
MAX_WAIT_S = 300.0
DEFAULT_WAIT_S = 30.0


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
    if not isinstance(body["strategy"], str):
        raise _error("strategy", f"must be text, got {type(body['strategy']).__name__}")
    cls = registry.get(body["strategy"].strip())
    raw_params = body.get("params") or {}
    if not isinstance(raw_params, Mapping):
        raise _error("params", "must be an object of parameter: value")
    params = cls.Params.parse(raw_params).as_dict()  # before queuing: a bad one is a 422 now
    args: dict[str, Any] = {name: body[name] for name in ("symbols", "start", "end",
                                                           "timeframe", "source", "limits")
                            if body.get(name) is not None}
    if body.get("cash") is not None:
        args["cash"] = parse_decimal("cash", body["cash"], MONEY, _error)
    if body.get("commission") is not None:
        args["commission"] = commission_model(body["commission"])
    if body.get("slippage_bps") is not None:
        args["slippage"] = SlippageModel(
            bps=parse_decimal("slippage_bps", body["slippage_bps"], BPS, _error))
    spec = BacktestSpec(strategy=cls.name, params=params, **args)
    return BacktestRequest(spec, _wait(body.get("wait_s")))


def _wait(raw: object) -> float:
    if raw is None:
        return DEFAULT_WAIT_S
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= MAX_WAIT_S:
        raise _error("wait_s", f"must be a number of seconds from 0 to {MAX_WAIT_S:g}")
    return float(raw)
