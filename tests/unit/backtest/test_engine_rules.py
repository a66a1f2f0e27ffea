"""The engine's fill rules, no look-ahead, the venue's refusals and faulty strategies, on
hand-made daily bars through the real kernel."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from tests.unit.backtest.handmade import DAY0, bar_store, day_ts, settings_for

from mcp_trading.backtest import BacktestResult, BacktestSpec, run_backtest
from mcp_trading.domain.errors import RefusedError
from mcp_trading.domain.models import SlippageModel
from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext, StrategyFill
from mcp_trading.strategy.loader import StrategyRegistry, load_registry

FLAT = (100.0, 101.0, 99.0, 100.0)


class Scripted(Strategy):
    """Submits the orders of `script[bar number]` and records what it saw."""

    name = "scripted"
    script: ClassVar[dict[int, list[dict[str, object]]]] = {}

    def on_start(self, ctx: StrategyContext) -> None:
        self.bars: list[StrategyBar] = []
        self.fills: list[tuple[StrategyFill, int]] = []  # with the last bar ts seen then
        self.positions: list[Decimal] = []
        self.refused: list[str] = []
        self.seen_history: list[tuple[int, float, int]] = []
        self.now: list[int] = []

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        self.bars.append(bar)
        self.positions.append(ctx.position(bar.symbol))
        closes = ctx.history(bar.symbol, 10_000)
        self.seen_history.append((len(closes), float(closes[-1]), len(self.bars)))
        self.now.append(ctx.now_ns)
        for order in type(self).script.get(len(self.bars) - 1, []):
            try:
                ctx.submit(bar.symbol, **order)  # type: ignore[arg-type]
            except RefusedError as exc:
                self.refused.append(exc.code)

    def on_fill(self, ctx: StrategyContext, fill: StrategyFill) -> None:
        self.fills.append((fill, self.bars[-1].ts))


class Raises(Strategy):
    name = "raises"

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        if bar.ts == day_ts(3):
            raise ValueError("boom on the fourth bar")


def _registry() -> StrategyRegistry:
    registry = load_registry()
    registry.add(Scripted, "test")
    registry.add(Raises, "test")
    return registry


def _run(tmp_path: Path, bars: list[tuple[float, float, float, float]],
         script: dict[int, list[dict[str, object]]], **spec: object) -> tuple[BacktestResult,
                                                                                Scripted]:
    Scripted.script = script
    made: list[Scripted] = []
    original = Scripted.__init__

    def keep(self: Scripted, params: object = None) -> None:
        original(self, params)  # type: ignore[arg-type]
        made.append(self)

    Scripted.__init__ = keep  # type: ignore[method-assign]
    try:
        result = run_backtest(BacktestSpec(strategy=spec.pop("strategy", "scripted"),
                                           symbols=("XYZ",), start=DAY0,
                                           end=DAY0.replace(year=DAY0.year + 1), **spec),
                              history=bar_store({"XYZ": bars}), registry=_registry(),
                              settings=settings_for(tmp_path))
    finally:
        Scripted.__init__ = original  # type: ignore[method-assign]
    return result, made[0] if made else Scripted()


def _buy(qty: int = 10, **kw: object) -> dict[str, object]:
    return {"side": "buy", "qty": qty, **kw}


def test_a_market_order_fills_at_the_next_open_and_shows_on_the_next_bar(tmp_path: Path) -> None:
    result, s = _run(tmp_path, [FLAT, (102.5, 104, 101, 103), FLAT], {0: [_buy()]})
    assert [(f.price, f.ts) for f in result.fills] == [(Decimal("102.5"), day_ts(1))]
    assert s.positions == [0, 10, 10]
    assert result.status == "completed" and result.orders[0].status == "filled"


def test_a_buy_limit_fills_at_its_limit_when_the_path_reaches_it(tmp_path: Path) -> None:
    # close < open: open 99 -> high 100 -> low 96 -> close 98 crosses 97 on the way down
    result, _ = _run(tmp_path, [FLAT, (99, 100, 96, 98), FLAT],
                     {0: [_buy(type="limit", limit_price=97.0)]})
    assert [f.price for f in result.fills] == [Decimal("97.00")]
    assert day_ts(1) < result.fills[0].ts < day_ts(2)


def test_a_buy_limit_the_open_gapped_through_fills_at_the_open(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT, (95, 96, 94, 95.5), FLAT],
                     {0: [_buy(type="limit", limit_price="97")]})
    assert [(f.price, f.ts) for f in result.fills] == [(Decimal("95"), day_ts(1))]


def test_a_limit_the_path_never_reaches_does_not_fill_and_expires(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT, (99, 100, 97.5, 98), (98, 99, 96, 97)],
                     {0: [_buy(type="limit", limit_price=97.0)]})
    # a day order decided on bar 0 works through bar 1 only: bar 2's 96 low is too late
    assert result.fills == ()
    assert result.orders[0].status == "expired"


def test_a_gtc_limit_prices_are_rounded_so_never_worse_than_asked(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT, (99, 100, 99, 99.5), (99, 99.5, 96, 97)],
                     {0: [_buy(type="limit", limit_price=97.019, time_in_force="gtc")]})
    assert result.orders[0].limit_price == Decimal("97.01")  # a buy limit rounds down
    assert [f.price for f in result.fills] == [Decimal("97.01")]


def test_a_sell_stop_fills_at_its_stop_or_at_a_gapped_open(tmp_path: Path) -> None:
    stop = {"side": "sell", "qty": 10, "type": "stop", "stop_price": 90.0}
    crossed, _ = _run(tmp_path, [FLAT, FLAT, (95, 96, 88, 89)], {0: [_buy()], 1: [stop]})
    assert [f.price for f in crossed.fills] == [Decimal("100"), Decimal("90.00")]
    gapped, _ = _run(tmp_path, [FLAT, FLAT, (85, 86, 84, 85)], {0: [_buy()], 1: [stop]})
    assert [(f.price, f.ts) for f in gapped.fills][1] == (Decimal("85"), day_ts(2))
    assert [(t.entry_price, t.exit_price, t.pnl) for t in gapped.trades] == [
        (Decimal("100"), Decimal("85"), Decimal("-150"))]


def test_a_buy_stop_fills_at_its_stop_plus_slippage_rounded_up(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT, (101, 106, 100.5, 105.5), FLAT],
                     {0: [_buy(type="stop", stop_price=105.0)]},
                     slippage=SlippageModel(bps=Decimal(10)))
    # 105 + 10 bps = 105.105, rounded onto the tick against the buyer
    assert [f.price for f in result.fills] == [Decimal("105.11")]


def test_no_look_ahead(tmp_path: Path) -> None:
    bars = [FLAT, (101, 103, 100, 102), (102, 104, 101, 103), (103, 105, 102, 104)]
    result, s = _run(tmp_path, bars, {0: [_buy()], 2: [{"side": "sell", "qty": 10}]})
    # a fill is reported after the bar it was decided on, before the bar it filled on
    assert [(f.ts, last) for f, last in s.fills] == [(day_ts(1), day_ts(0)),
                                                     (day_ts(3), day_ts(2))]
    # history holds exactly the bars delivered so far, the current one last
    assert [(n, close) for n, close, _ in s.seen_history] == [
        (i + 1, bar[3]) for i, bar in enumerate(bars)]
    # the clock in on_bar is after the bar's start and before the next bar's
    for i, now in enumerate(s.now):
        assert day_ts(i) < now < day_ts(i + 1)
    assert len(result.trades) == 1


def test_a_buy_beyond_buying_power_is_a_rejected_order(tmp_path: Path) -> None:
    result, s = _run(tmp_path, [FLAT, FLAT], {0: [_buy(qty=100)]}, cash=Decimal(1_000))
    assert s.refused == ["RISK_BUYING_POWER"]
    assert [(o.status, o.reject_code) for o in result.orders] == [
        ("rejected", "RISK_BUYING_POWER")]
    assert "rejected" in result.warnings[0] and result.fills == ()


def test_a_naked_short_is_refused_unless_allowed(tmp_path: Path) -> None:
    short = {0: [{"side": "sell", "qty": 5}]}
    _, s = _run(tmp_path, [FLAT, FLAT], short)
    assert s.refused == ["RISK_SHORT_SALE"]
    allowed, _ = _run(tmp_path, [FLAT, (99, 99, 98, 98)], short, allow_short=True)
    assert [(f.side, f.price) for f in allowed.fills] == [("sell", Decimal("99"))]


def test_run_limits_apply_only_when_asked(tmp_path: Path) -> None:
    limited, s = _run(tmp_path, [FLAT, FLAT], {0: [_buy(qty=100)]},
                      limits={"max_order_qty": "50"})
    assert s.refused == ["RISK_MAX_ORDER_QTY"]
    assert limited.spec.limits == {"max_order_qty": "50"}
    free, s = _run(tmp_path, [FLAT, FLAT], {0: [_buy(qty=100)]})
    assert s.refused == [] and len(free.fills) == 1


def test_a_market_order_on_the_last_bar_is_canceled_at_the_end(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT, FLAT], {1: [_buy()]})
    assert [o.status for o in result.orders] == ["canceled"]
    assert any("canceled unfilled" in w for w in result.warnings)


def test_a_strategy_that_raises_is_stopped_and_reported(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, [FLAT] * 6, {}, strategy="raises")
    assert result.status == "stopped"
    assert result.fault is not None
    assert (result.fault["callback"], result.fault["error_type"]) == ("on_bar", "ValueError")
    assert "boom on the fourth bar" in result.fault["message"]
    assert result.bars == 3 and "stopped in on_bar" in result.warnings[0]
    assert len(result.equity) == 6  # the curve still covers the data


def test_a_run_drawdown_limit_halts_the_account_on_the_marks(tmp_path: Path) -> None:
    bars = [FLAT, FLAT, (99, 99, 89, 90), FLAT]
    result, s = _run(tmp_path, bars, {0: [_buy(qty=900)], 3: [_buy(qty=1)]},
                     limits={"max_drawdown_pct": "5"})
    # the close of 90 marks 900 shares 9 % below the day's peak: the kernel halts the account
    assert s.refused == ["TRADING_HALTED"]
    assert [o.reject_code for o in result.orders] == [None, "TRADING_HALTED"]


def test_the_context_is_a_strategy_context(tmp_path: Path) -> None:
    seen: list[object] = []

    class Probe(Strategy):
        name = "probe"

        def on_start(self, ctx: StrategyContext) -> None:
            seen.append(ctx)

    registry = _registry()
    registry.add(Probe, "test")
    run_backtest(BacktestSpec(strategy="probe", symbols=("XYZ",), start=DAY0, end=DAY0),
                 history=bar_store({"XYZ": [FLAT]}), registry=registry,
                 settings=settings_for(tmp_path))
    assert len(seen) == 1 and isinstance(seen[0], StrategyContext)
