"""The optimizer's request bodies (pydantic, extra="forbid"): one parser for REST, MCP and
the CLI, so every face refuses the same input with the same message.

A pydantic error becomes an InvalidError (422) whose `field` is the dotted path of the first
bad value (`constraints.bounds`, `prices.AAPL.3`) and whose message says what is wrong and
what is allowed. Units: `risk_free_rate` is annual, as a fraction (0.04 = 4 %); `frequency`
is periods per year (252 for daily closes); weights and bounds are fractions of the
portfolio's value (0.3 = 30 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcp_trading.domain.errors import InvalidError

__all__ = ["ConfirmBody", "ConstraintsBody", "EvaluateBody", "FrontierBody", "GroupBody",
           "OptimizeBody", "RebalanceBody", "parse_body", "plain"]

M = TypeVar("M", bound=BaseModel)
MAX_SYMBOLS = 1000
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class GroupBody(BaseModel):
    model_config = _STRICT
    symbols: list[str] = Field(..., min_length=1, description="The group's symbols")
    max: float | None = Field(None, ge=0, le=1, description="Most total weight, fraction")
    min: float | None = Field(None, ge=0, le=1, description="Least total weight, fraction")


class ConstraintsBody(BaseModel):
    model_config = _STRICT
    bounds: tuple[float, float] | dict[str, tuple[float, float]] | None = Field(
        None, description="[lower, upper] weight of every asset, or {symbol: [lower, upper]} "
                          "(unlisted symbols: the default, [0, 1] long-only or [-1, 1])")
    groups: dict[str, GroupBody] = Field(
        default_factory=dict, description="{name: {symbols, max, min}}, e.g. a sector cap")
    long_only: bool = Field(True, description="No negative weight")
    max_turnover: float | None = Field(
        None, gt=0, le=2, description="Most sum |w - current| against the current weights "
                                      "(`current_weights` or the account's positions)")
    cash_buffer: float = Field(0.0, ge=0, lt=1, description="Weights sum to 1 - cash_buffer")


class _Inputs(BaseModel):
    """Where the prices come from, and how they become estimates."""

    model_config = _STRICT
    symbols: list[str] | None = Field(None, max_length=MAX_SYMBOLS,
                                      description="Symbols with stored daily history")
    start: str | None = Field(None, description="First day, YYYY-MM-DD (with symbols)")
    end: str | None = Field(None, description="Last day, YYYY-MM-DD (with symbols)")
    source: str | None = Field(None, description="The stored source to read (default: the "
                                                 "bar store's choice per symbol)")
    prices: dict[str, list[float]] | None = Field(
        None, description="Inline closes {symbol: [oldest .. newest]}, equal lengths")
    returns: dict[str, list[float]] | None = Field(
        None, description="Inline periodic simple returns {symbol: [..]}, equal lengths")
    expected_returns: str = Field("mean_historical",
                                  description="Expected-returns estimator (GET /methods)")
    covariance: str = Field("sample", description="Covariance estimator (GET /methods)")
    estimator_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="{expected_returns: {..}, covariance: {..}}")
    benchmark: str | None = Field(None, description="capm's market: a symbol with stored "
                                                    "history (with symbols/start/end)")
    risk_free_rate: float = Field(0.0, gt=-1, lt=1,
                                  description="Annual risk-free rate, a fraction (0.04 = 4 %)")
    frequency: int = Field(252, ge=1, le=100_000, description="Periods per year (252: daily)")


class OptimizeBody(_Inputs):
    method: str = Field("max_sharpe", description="An optimisation method (GET /methods)")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="The method's options (GET /methods)")
    constraints: ConstraintsBody = Field(default_factory=ConstraintsBody)
    current_weights: dict[str, float] | None = Field(
        None, description="Current weights {symbol: fraction}, for max_turnover")
    account: str | None = Field(None, description="An account whose positions give the "
                                                  "current weights (instead of current_weights)")


class FrontierBody(OptimizeBody):
    method: str = Field("max_sharpe", description="The frontier's marked portfolio's method")
    points: int = Field(20, ge=2, le=200, description="Points on the efficient frontier")


class EvaluateBody(_Inputs):
    methods: list[str] = Field(..., min_length=1, max_length=12,
                               description="Methods side by side (GET /methods)")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="{method: its options}")
    constraints: ConstraintsBody = Field(default_factory=ConstraintsBody)
    estimators: list[str] | None = Field(
        None, description="Expected-returns estimators side by side (default: the one "
                          "named in expected_returns)")
    window: int = Field(252, ge=20, le=10_000, description="Estimation window, periods")
    rebalance_every: int = Field(21, ge=1, le=10_000, description="Rebalance every K periods")


class RebalanceBody(BaseModel):
    model_config = _STRICT
    account: str | None = Field(None, description="The account (default: the platform's)")
    weights: dict[str, float] | None = Field(None, description="Target weights {symbol: w}")
    run_id: str | None = Field(None, description="Or a stored optimize run's weights")
    optimize: OptimizeBody | None = Field(None, description="Or an optimize request, run now")
    min_trade_notional: float = Field(100.0, ge=0, description="Skip smaller trades (money)")
    order_type: Literal["market", "limit"] = Field(
        "market", description="market (refused outside the session), or limit at the "
                              "current reference price")
    proceeds_margin: float = Field(
        0.005, ge=0, le=0.5, description="The buys are checked against buying power plus "
                                         "the sells' proceeds at the current prices less this "
                                         "fraction (0.005 = 0.5 %), at preview and confirm")


class ConfirmBody(BaseModel):
    model_config = _STRICT
    confirmation_token: str = Field(..., min_length=8, max_length=200,
                                    description="The token POST /rebalance answered")
    fill_wait_s: float = Field(
        5.0, ge=0, le=8, description="Seconds to wait for the sells to fill before the buys "
                                     "are placed; unfilled sells are then canceled and no buy "
                                     "is placed (at most 8: a forwarded confirm times out at "
                                     "10 s)")


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p in
                                         ("tuple[float, float]", "dict[str,tuple[float,float]]"))]
    return ".".join(parts) or "body"


def plain(value: Any) -> Any:
    """JSON numbers decoded as Decimal (the REST face keeps them exact) as int or float:
    method and estimator options are plain numbers to the core."""
    if isinstance(value, Decimal):
        exact = value == value.to_integral_value() and value.as_tuple().exponent == 0
        return int(value) if exact else float(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_body(model: type[M], body: Mapping[str, Any]) -> M:
    """The body as `model`; InvalidError (422) naming the first bad field and the fix."""
    try:
        return model.model_validate(plain(body))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = _field(tuple(error["loc"]))
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = ", ".join(model.model_fields)
            message = f"{field}: not a field here; allowed: {allowed}"
        elif kind == "finite_number":
            message = (f"{field}: is not a finite number; prices and returns must be finite "
                       "(fill or drop the gap, or shorten the range)")
        else:
            message = f"{field}: {error['msg']}"
        code = "INVALID_REBALANCE" if model in (RebalanceBody, ConfirmBody) else \
            "INVALID_OPTIMIZATION"
        raise InvalidError(message, code=code, field=field) from None
