"""Our own definitions and the edge cases, on hand-computed series."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest

from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import DEFINITIONS, compute_metrics, daily_risk_free
from mcp_trading.analytics.trades import RoundTrip
from mcp_trading.domain.errors import InvalidError

DAY = 86_400 * 10**9
T0 = 1_600_000_000 * 10**9  # 2020-09-13


def _curve(equity: list[float], initial: float | None = None, **extra: object) -> EquityCurve:
    return EquityCurve.of([T0 + i * DAY for i in range(len(equity))], equity, initial=initial,
                          **extra)


def _trade(pnl: str, ret: str = "0.01") -> RoundTrip:
    return RoundTrip("AAPL", "long", Decimal(1), T0, Decimal(100), T0 + DAY, Decimal(101),
                     Decimal(pnl), Decimal(0), Decimal(ret))


def _json(metrics: object) -> dict[str, object]:
    text = json.dumps(metrics, allow_nan=False)  # NaN or inf would raise here
    out: dict[str, object] = json.loads(text)
    return out


def test_an_unrecovered_drawdown_lasts_to_the_last_day() -> None:
    got = compute_metrics(_curve([100, 110, 99, 105, 110, 120, 90, 95]))
    assert got.max_drawdown == pytest.approx(-0.25)  # 120 -> 90
    assert (got.max_drawdown_peak, got.max_drawdown_trough) == ("2020-09-18", "2020-09-19")
    assert got.max_drawdown_recovered is False and got.max_drawdown_recovery is None
    assert got.max_drawdown_duration_days == 2  # peak on day 5, the curve ends on day 7


def test_a_recovered_drawdown_lasts_from_peak_to_recovery() -> None:
    # the deepest is 110 -> 88 (-20 %), back to 110 on day 6; the later dip is shallower
    got = compute_metrics(_curve([100, 110, 99, 88, 100, 105, 110, 108, 111]))
    assert got.max_drawdown == pytest.approx(-0.2)
    assert got.max_drawdown_peak == "2020-09-14"
    assert got.max_drawdown_recovery == "2020-09-19"
    assert got.max_drawdown_duration_days == 5 and got.max_drawdown_recovered is True


def test_a_drawdown_from_the_starting_cash_names_the_start() -> None:
    got = compute_metrics(_curve([95, 90, 101], initial=100.0))
    assert got.max_drawdown == pytest.approx(-0.1)
    assert got.max_drawdown_peak == "start" and got.max_drawdown_recovery == "2020-09-15"
    assert got.max_drawdown_duration_days == 3 and got.returns == 3


def test_cagr_and_total_return_use_252_trading_days() -> None:
    equity = list(100 * 1.1 ** (np.arange(253) / 252))  # 10 % over 252 returns
    got = compute_metrics(_curve(equity))
    assert got.total_return == pytest.approx(0.1)
    assert got.cagr == pytest.approx(0.1)
    assert got.calmar is None and got.max_drawdown == 0


def test_the_risk_free_rate_is_converted_to_daily_geometrically() -> None:
    assert (1 + daily_risk_free(0.05)) ** 252 == pytest.approx(1.05, rel=1e-12)
    flat = compute_metrics(_curve(list(100 * 1.05 ** (np.arange(30) / 252))),
                           risk_free_rate=0.05)
    assert flat.sharpe is None  # returns equal to the risk-free rate: no excess, no spread
    with pytest.raises(InvalidError) as raised:
        compute_metrics(_curve([1.0, 2.0]), risk_free_rate=-1.5)
    assert raised.value.field == "risk_free_rate"


def test_flat_equity_gives_null_ratios_and_valid_json() -> None:
    got = compute_metrics(_curve([100.0] * 10, initial=100.0))
    assert got.annual_volatility == 0.0
    assert got.sharpe is None and got.sortino is None and got.calmar is None
    assert got.total_return == 0.0 and got.max_drawdown == 0.0
    out = _json(got.as_dict())
    assert out["sharpe"] is None
    assert any("Sharpe" in note for note in got.notes)


def test_one_day_has_no_volatility_and_says_so() -> None:
    got = compute_metrics(_curve([100.0]))
    assert (got.days, got.returns, got.total_return, got.cagr) == (1, 0, None, None)
    assert got.annual_volatility is None and got.best_day is None
    assert _json(got.as_dict())["days"] == 1
    two = compute_metrics(_curve([100.0, 101.0]))
    assert two.returns == 1 and two.annual_volatility is None and two.sharpe is None
    assert two.total_return == pytest.approx(0.01)


def test_no_trades_leaves_the_trade_metrics_null() -> None:
    got = compute_metrics(_curve([100.0, 101.0, 99.0]))
    assert (got.trades, got.win_rate, got.profit_factor) == (0, None, None)


def test_win_rate_and_profit_factor_from_closed_trades() -> None:
    trades = [_trade("30", "0.03"), _trade("-10", "-0.01"), _trade("0", "0"), _trade("20", "0.02")]
    got = compute_metrics(_curve([100.0, 101.0, 99.0]), trades)
    assert got.win_rate == 0.5  # the flat trade is not a win
    assert got.profit_factor == pytest.approx(5.0)
    assert got.average_trade_return == pytest.approx(0.01)


def test_no_losing_trade_gives_a_null_profit_factor() -> None:
    got = compute_metrics(_curve([100.0, 101.0]), [_trade("5"), _trade("0")])
    assert got.profit_factor is None and got.win_rate == 0.5
    assert any("profit factor" in note for note in got.notes)


def test_equity_below_zero_nulls_the_return_metrics() -> None:
    got = compute_metrics(_curve([50.0, -20.0, 10.0], initial=100.0))
    assert got.total_return == pytest.approx(-0.9)
    assert got.max_drawdown == pytest.approx(-1.2)  # 100 -> -20: more than everything
    assert got.cagr is None and got.sharpe is None and got.annual_volatility is None
    assert any("2020-09-14" in note for note in got.notes)
    _json(got.as_dict())


def test_a_base_that_is_not_positive_is_refused() -> None:
    with pytest.raises(InvalidError) as raised:
        compute_metrics(_curve([10.0, 12.0], initial=0.0))
    assert raised.value.field == "initial"


def test_turnover_and_exposure() -> None:
    got = compute_metrics(_curve([100.0, 100.0, 100.0, 100.0], initial=100.0,
                                 traded=[100.0, 0.0, 0.0, 100.0],
                                 gross_exposure=[100.0, 50.0, 0.0, 0.0]))
    assert got.turnover == pytest.approx(2.0)  # bought and sold the whole equity once
    assert got.turnover_annual == pytest.approx(2.0 * 252 / 4)
    assert got.exposure_time == 0.5
    assert got.exposure_average == pytest.approx(0.375)


def test_as_dict_rounds_and_states_the_basis() -> None:
    out = _json(compute_metrics(_curve([100.0, 100.0 / 3, 50.0])).as_dict())
    assert out["total_return"] == -0.5
    assert out["worst_day"] == pytest.approx(-2 / 3) and len(repr(out["worst_day"])) <= 14
    assert out["basis"] == {"annualisation_days": 252, "returns": "simple daily",
                            "risk_free_rate": 0.0, "risk_free_daily": "(1 + rate)^(1/252) - 1"}
    for name in DEFINITIONS:
        assert name in out


def test_a_curve_with_nan_is_refused() -> None:
    with pytest.raises(InvalidError) as raised:
        _curve([100.0, math.nan])
    assert raised.value.field == "equity"
    with pytest.raises(InvalidError):
        EquityCurve.of([T0, T0], [1.0, 2.0])
