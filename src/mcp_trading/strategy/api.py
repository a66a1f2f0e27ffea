"""The strategy API: what a strategy is, what it sees and what it may do.

A strategy is a subclass of `Strategy` with a unique `name`, a docstring (shown to users by
`GET :8090/strategies`: say the rules precisely) and a nested `Params(StrategyParams)`.
Every callback is optional; the runner calls them on one thread, never two at once:

    on_start(ctx)          once, before the first bar (warm up from ctx.history here)
    on_bar(ctx, bar)       after a bar has CLOSED (no look-ahead): decide on its close
    on_quote(ctx, quote)   live runs only: a quote of a symbol of the run
    on_fill(ctx, fill)     one of the strategy's own orders (partly) filled
    on_stop(ctx)           once, at the end of a backtest or when an instance is stopped

The same class runs in a backtest and as a live paper instance: only the context differs.
The backtest runner and the live runner implement `StrategyContext`; neither lets a strategy
touch the kernel, the store or the clock directly.

Contract of the runners (both keep it, the vector path assumes it):
- Bars of one timestamp are delivered in the order of `ctx.symbols`.
- A market order submitted in `on_bar` of bar t fills at the open of the symbol's next bar
  (plus the slippage model) before `on_bar` of that next bar is called, so `position()` seen
  there includes it. Limit and stop orders fill when a later bar's range reaches them.
- Prices a strategy passes to `submit`/`replace` are Decimal or numbers; the RUNNER rounds
  them onto the instrument's tick (`Instrument.round_to_tick`: a buy limit down, a sell limit
  up, a buy stop up, a sell stop down — never a worse price than asked) and then builds the
  order with `OrderRequest.parse`, so a strategy computing a price from float history need not
  know the tick. Quantities are not rounded: a quantity off the lot size is refused.
- `history(symbol, n)` returns the last n closes seen so far (float64, oldest first), the
  bar store's warm-up included; never a bar after the one being delivered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.market import Quote
from mcp_trading.strategy.params import StrategyParams

__all__ = ["NoParams", "Strategy", "StrategyBar", "StrategyContext", "StrategyFill"]


class StrategyBar(NamedTuple):
    """A closed bar as a strategy sees it. `ts` is the start of the bar's interval (ns since
    the epoch, as the bar store keys it); prices are float64 like history. `volume` is NaN
    where the source reports none."""

    symbol: str
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class StrategyFill(NamedTuple):
    """A fill of one of the strategy's own orders: exact quantities and prices."""

    order_id: str
    symbol: str
    side: str  # "buy" | "sell"
    qty: Decimal
    price: Decimal
    ts: int  # ns since the epoch (the simulated clock in a backtest)


@runtime_checkable
class StrategyContext(Protocol):
    """What a strategy may read and do. Implemented by the backtest and the live runner.

    Orders go through the same path as any client's (pre-trade risk, the venue's rules) and
    carry `strategy:<instance id>` as attribution. A refused order (buying power, a risk
    limit, a halt, REDUCING) is where the two contexts differ:

    - in a backtest (backtest/context.py) `submit` raises RefusedError into the callback
      (its `extra["order_id"]` is the rejected order), which the strategy may catch;
    - live (services/strategies/live_context.py) nothing is raised: the refusal is written
      to the instance's log and `refusals`, and `submit` returns the rejected order's id
      ("" when none was journaled), so a halt refuses an instance's orders without stopping
      it.

    An order the strategy got wrong (InvalidError: a bad side, type or quantity, a symbol not
    of the run) raises in both.
    """

    @property
    def now_ns(self) -> int:
        """The run's clock: simulated in a backtest, the platform clock live."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols of the run, in the order bars of one timestamp are delivered."""

    def submit(self, symbol: str, side: str, qty: Decimal | int | str, *, type: str = "market",
               limit_price: Decimal | float | str | None = None,
               stop_price: Decimal | float | str | None = None, time_in_force: str = "day",
               client_order_id: str | None = None) -> str:
        """Place an order (prices rounded to the tick by the runner); returns its order id."""

    def cancel(self, order_id: str) -> None:
        """Ask to cancel one of the strategy's working orders."""

    def replace(self, order_id: str, *, qty: Decimal | int | str | None = None,
                limit_price: Decimal | float | str | None = None,
                stop_price: Decimal | float | str | None = None) -> str:
        """Replace a working order; returns the new order's id."""

    def position(self, symbol: str) -> Decimal:
        """The signed quantity held (0 when flat)."""

    def positions(self) -> dict[str, Decimal]:
        """Every non-zero position of the account, by symbol."""

    def cash(self) -> Decimal:
        """The account's cash."""

    def equity(self) -> Decimal:
        """Cash plus positions at their last price."""

    def open_orders(self, symbol: str | None = None) -> list[str]:
        """The ids of the strategy's working orders (of one symbol)."""

    def history(self, symbol: str, n: int) -> npt.NDArray[np.float64]:
        """The last `n` closes (fewer if fewer exist), oldest first, float64."""

    def log(self, msg: str) -> None:
        """A line in the run's log (the instance's status or the backtest result)."""


class NoParams(StrategyParams):
    """A strategy without parameters."""


class Strategy:
    """The base of every strategy; override the callbacks you need (see the module docstring).

    One instance runs one backtest or one live instance; keep per-run state on `self`.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = NoParams

    def __init__(self, params: StrategyParams | None = None) -> None:
        if params is None:
            params = type(self).Params.parse({})
        elif not isinstance(params, type(self).Params):
            raise TypeError(f"{type(self).__name__} takes {type(self).Params.__qualname__}, "
                            f"not {type(params).__qualname__}")
        self.params = params

    @classmethod
    def describe(cls) -> dict[str, object]:
        """What `GET :8090/strategies` shows: name, docstring and parameter schema."""
        doc = (cls.__doc__ or "").strip()
        return {"name": cls.name, "doc": doc, "summary": doc.split("\n", 1)[0],
                "params": cls.Params.schema()}

    @classmethod
    def warmup_bars(cls, params: StrategyParams) -> int:
        """How many closed bars per symbol a live instance replays through `on_bar` before it
        trades (at its start and after every restart; the orders it asks for meanwhile are
        not placed). Default: the largest integer parameter plus one — a window of n bars
        needs n closes, and a crossover the sign of the bar before. Override when the
        strategy needs more (or none: return 0)."""
        windows = [v for v in params.as_dict().values()
                   if isinstance(v, int) and not isinstance(v, bool)]
        return max(windows) + 1 if windows else 0

    def on_start(self, ctx: StrategyContext) -> None:
        """Once, before the first bar."""

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        """After each closed bar of a symbol of the run."""

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Live runs: each quote of a symbol of the run."""

    def on_fill(self, ctx: StrategyContext, fill: StrategyFill) -> None:
        """Each fill of one of the strategy's orders."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """Once, at the end of the run."""

