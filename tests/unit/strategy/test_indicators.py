"""Incremental indicators against direct numpy computations on real prices (1e-9 relative),
and their series twins bit for bit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from tests.unit.strategy.support import sample_bars

from mcp_trading.strategy import indicators as ind

F64 = npt.NDArray[np.float64]
REL = 1e-9


def _windows(x: F64, n: int) -> F64:
    return np.lib.stride_tricks.sliding_window_view(x, n)


def _close(symbol: str = "AAPL") -> F64:
    return np.asarray(sample_bars()[symbol].close)


def _wilder_reference(x: F64, n: int) -> F64:
    """Wilder's average as a closed form: seed = mean of the first n, then weights (1-1/n)^k."""
    out = np.full(x.shape[0], np.nan)
    a = 1.0 / n
    out[n - 1] = x[:n].mean()
    for t in range(n, x.shape[0]):
        k = np.arange(t - n + 1)[::-1]  # x[n..t] weighted a(1-a)^(t-i)
        out[t] = (1 - a) ** (t - n + 1) * out[n - 1] + np.sum(a * (1 - a) ** k * x[n:t + 1])
    return out


@pytest.mark.parametrize("symbol", ["AAPL", "GOOG", "IBM"])
@pytest.mark.parametrize("n", [1, 2, 10, 30, 300])
def test_sma_matches_the_window_mean(symbol: str, n: int) -> None:
    close = _close(symbol)
    sma = ind.SMA(n)
    values = np.array([sma.update(v) for v in close.tolist()])
    assert np.isnan(values[:n - 1]).all() and sma.ready
    np.testing.assert_allclose(values[n - 1:], _windows(close, n).mean(axis=1), rtol=REL)
    assert np.array_equal(values, ind.sma(close, n), equal_nan=True)


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT", "FB"])
@pytest.mark.parametrize("n", [2, 20, 50])
def test_bollinger_bands_are_the_mean_plus_k_population_stdevs(symbol: str, n: int) -> None:
    close = _close(symbol)
    bands = ind.Bollinger(n, 2.0)
    rows = np.array([bands.update(v) for v in close.tolist()])
    mean, std = _windows(close, n).mean(axis=1), _windows(close, n).std(axis=1)  # ddof 0
    np.testing.assert_allclose(rows[n - 1:, 0], mean, rtol=REL)
    # the stdev itself to 1e-9 of the price scale (a near-zero stdev has no relative digits)
    np.testing.assert_allclose((rows[n - 1:, 1] - rows[n - 1:, 0]) / 2, std, rtol=REL,
                               atol=REL * mean.max())
    np.testing.assert_allclose(rows[n - 1:, 2], mean - 2 * std, rtol=REL)
    twin = np.column_stack(ind.bollinger(close, n, 2.0))
    assert np.array_equal(rows, twin, equal_nan=True)


def test_bollinger_of_a_constant_series_has_zero_width() -> None:
    bands = ind.Bollinger(5, 2.0)
    for _ in range(600):
        middle, upper, lower = bands.update(0.1)
    assert upper == lower == middle == pytest.approx(0.1, rel=1e-15)


@pytest.mark.parametrize("n", [5, 12, 26])
def test_ema_matches_its_closed_form(n: int) -> None:
    close = _close()[:800]
    ema = ind.EMA(n)
    values = np.array([ema.update(v) for v in close.tolist()])
    alpha = 2.0 / (n + 1)
    expected = np.full(close.shape[0], np.nan)
    seed = close[:n].mean()
    for t in range(n - 1, close.shape[0]):
        k = np.arange(t - n + 1)[::-1]
        expected[t] = (1 - alpha) ** (t - n + 1) * seed + np.sum(alpha * (1 - alpha) ** k
                                                                 * close[n:t + 1])
    np.testing.assert_allclose(values[n - 1:], expected[n - 1:], rtol=REL)
    assert np.isnan(values[:n - 1]).all()
    assert np.array_equal(values, ind.ema(close, n), equal_nan=True)


@pytest.mark.parametrize("n", [2, 14])
def test_rsi_is_wilders(n: int) -> None:
    close = _close("MSFT")[:900]
    rsi = ind.RSI(n)
    values = np.array([rsi.update(v) for v in close.tolist()])
    change = np.diff(close)
    gain = _wilder_reference(np.where(change > 0, change, 0.0), n)
    loss = _wilder_reference(np.where(change < 0, -change, 0.0), n)
    with np.errstate(divide="ignore"):  # no loss in the window: 100, as RSI says
        expected = 100.0 - 100.0 / (1.0 + gain / loss)
    assert np.isnan(values[:n]).all()  # ready after n + 1 closes
    np.testing.assert_allclose(values[n:], expected[n - 1:], rtol=REL)
    assert np.array_equal(values, ind.rsi(close, n), equal_nan=True)


def test_rsi_of_a_rising_series_is_100_and_of_a_flat_one_50() -> None:
    up, flat = ind.RSI(3), ind.RSI(3)
    for i in range(10):
        up.update(float(i))
        flat.update(5.0)
    assert (up.value, flat.value) == (100.0, 50.0)


def test_atr_is_wilders_average_of_true_ranges() -> None:
    bars = sample_bars()["IBM"]
    high, low, close = (np.asarray(a)[:900] for a in (bars.high, bars.low, bars.close))
    atr = ind.ATR(14)
    values = np.array([atr.update(h, lo, c) for h, lo, c
                       in zip(high.tolist(), low.tolist(), close.tolist(), strict=True)])
    prev = close[:-1]
    true_range = np.maximum(high[1:] - low[1:], np.maximum(abs(high[1:] - prev),
                                                           abs(low[1:] - prev)))
    expected = _wilder_reference(true_range, 14)
    assert np.isnan(values[:14]).all()
    np.testing.assert_allclose(values[14:], expected[13:], rtol=REL)
    assert np.array_equal(values, ind.atr(high, low, close, 14), equal_nan=True)


def test_a_period_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        ind.SMA(0)
