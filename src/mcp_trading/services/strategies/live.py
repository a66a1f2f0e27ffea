"""The live runner: runs every running strategy instance the kernel records, on the live feed.

One `LiveRunner` per platform (`for_platform`; the strategies service's background task, run
where the kernel is: the embedded platform, or in distributed mode the trading engine's
process, to which the strategies service forwards the instance routes; there it also folds
the quotes it hears into the 1-minute bars `LiveBars` reads, as market data does embedded).
It listens to the platform's quotes and, on the event loop, keeps one `_Run` per running
instance (kernel state `instances`, domain/instances.py). Each cycle, for each run, in this
order: the fills of its orders since the last cycle (`on_fill`), the bars of its timeframe
closed since the last cycle (`on_bar`, bars of one timestamp in the order of its symbols;
live_bars.py says when a bar is closed), then the latest quote of each of its symbols
(`on_quote`, only when the strategy defines it; latest value wins). A cycle runs only when
the quotes delivered so far are all in the kernel (the pump hands one batch over quote by
quote), so a bar is never decided on before the kernel has seen its close.

A run's states:

    warming ──warm-up bars replayed──▶ trading ──kernel says stopped──────▶ gone (on_stop)
       │                                  │
       └──────a callback raised or hung───┴──▶ faulted: stop journaled, alert ──▶ gone

Warm-up (at the start and after every restart): `Strategy.warmup_bars(params)` closed bars per
symbol (the default: the largest integer parameter + 1; sma_crossover fast=3 slow=5 → 6)
read from the bar store up to the feed's present, replayed through `on_bar` with order
placement off (live_context.py), so the indicators are where an uninterrupted run would
have them before the first live bar; positions and working orders are the kernel's own.

Each callback runs under the instance's `CallbackGuard` (timeout
MCP_TRADING_STRATEGY_CALLBACK_TIMEOUT_S): one that raises or hangs stops the instance — the
stop is journaled with the fault as its reason and an alert is raised — and the runner goes
on with the others. Fills are found from the kernel's orders of the instance (attribution
`strategy:<id>`): the change of an order's filled quantity since the last cycle is one fill
(two fills of one order within one cycle arrive as one, at their average price).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_trading.adapters.feeds.replay import ReplayFeed
from mcp_trading.domain.instances import StrategyInstance
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import WORKING
from mcp_trading.platform.alert_center import Severity
from mcp_trading.services.strategies.live_bars import BarSource, bar_source
from mcp_trading.services.strategies.live_context import LiveContext
from mcp_trading.services.trading_engine.service import TradingService
from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyFill
from mcp_trading.strategy.guard import CallbackGuard, StrategyFault, StrategyStoppedError

if TYPE_CHECKING:
    from mcp_trading.platform.platform import Platform
    from mcp_trading.strategy.loader import StrategyRegistry

__all__ = ["RUNNER_ACTOR", "LiveRunner", "background"]

log = logging.getLogger("mcp_trading.strategies.live")

RUNNER_ACTOR = "strategy-runner"
_POLL_S = 0.5  # a cycle at least this often without quotes (starts, stops, a stepped replay)
_QUEUE = 10_000
_ZERO = Decimal(0)
_RUNNERS: weakref.WeakKeyDictionary[Platform, LiveRunner] = weakref.WeakKeyDictionary()


class _Run:
    """One running instance: its strategy, guard, context, bars and fills seen."""

    def __init__(self, instance: StrategyInstance, strategy: Strategy, ctx: LiveContext,
                 guard: CallbackGuard, bars: BarSource) -> None:
        self.instance, self.strategy, self.ctx, self.guard, self.bars = (
            instance, strategy, ctx, guard, bars)
        self.state = "warming"
        self.warmup = 0  # bars per symbol asked for
        self.warmed = 0  # bars replayed in all
        self.delivered = 0  # live bars delivered
        self.after: dict[str, int | None] = dict.fromkeys(instance.symbols)
        self.last_bar_ts: int | None = None
        #: order id -> (filled qty, average price) reported so far
        self.fills: dict[str, tuple[Decimal, Decimal]] = {}
        self.fault: StrategyFault | None = None
        self.quotes = type(strategy).on_quote is not Strategy.on_quote

    def view(self) -> dict[str, Any]:
        return {"runner": self.state, "warmup_bars": self.warmup, "warmed_bars": self.warmed,
                "bars": self.delivered, "last_bar_ts": self.last_bar_ts,
                "last_error": None if self.fault is None else self.fault.as_dict(),
                "refusals": list(self.ctx.refusals), "log": list(self.ctx.logs)[-20:]}


class LiveRunner:
    """The platform's live instances (module docstring); a `Background` of the service."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.runs: dict[str, _Run] = {}
        self.ended: dict[str, dict[str, Any]] = {}  # what a gone run last showed (its view)
        self._wake = asyncio.Event()
        self._registry: StrategyRegistry | None = None
        self._active: asyncio.Task[None] | None = None
        self._pending: list[Quote] = []  # quotes of a batch the pump is still handing over

    @classmethod
    def for_platform(cls, platform: Platform) -> LiveRunner:
        runner = _RUNNERS.get(platform)
        if runner is None:
            runner = _RUNNERS[platform] = cls(platform)
        return runner

    def wake(self) -> None:
        """Run a cycle now (an instance was started or stopped)."""
        self._wake.set()

    def view(self, instance_id: str) -> dict[str, Any] | None:
        run = self.runs.get(instance_id)
        return run.view() if run is not None else self.ended.get(instance_id)

    # ---- the loop -------------------------------------------------------------------------
    async def run(self) -> None:
        if self._active is not None:
            return
        if self.platform.role not in ("embedded", "engine"):  # no kernel here: nothing to run
            await asyncio.Event().wait()
        self._active = asyncio.current_task()
        queue: asyncio.Queue[Quote] = asyncio.Queue(maxsize=_QUEUE)
        self.platform.quote_listeners.append(queue)
        newest = 0
        try:
            while True:
                quotes = await self._next(queue)
                if quotes:
                    newest = max(newest, quotes[-1].ts)
                    self._fold_bars(quotes)
                # the pump is mid-batch while a quote it handed over is newer than its mark
                if not queue.empty() or newest > self.platform.last_quote_ns:
                    self._pending.extend(quotes)
                    continue
                await self.cycle(self._pending + quotes)
                self._pending = []
        finally:
            self.platform.quote_listeners.remove(queue)
            self._active = None
            await self._close_all()

    def _fold_bars(self, quotes: list[Quote]) -> None:
        """Distributed: market data's task (which folds quotes into the bars `LiveBars`
        reads) runs in its own process, so the engine's runner folds the quotes it hears into
        this process's market data bars itself; storing them stays market data's job."""
        if self.platform.role != "engine" or isinstance(self.platform.feed, ReplayFeed):
            return
        from mcp_trading.services.market_data.service import MarketDataService

        bars = MarketDataService.for_platform(self.platform).bars
        for quote in quotes:
            bars.on_quote(quote)
        bars.take_pending()  # written by the market-data process, not here

    async def _next(self, queue: asyncio.Queue[Quote]) -> list[Quote]:
        wake = asyncio.ensure_future(self._wake.wait())
        get = asyncio.ensure_future(queue.get())
        try:
            done, _ = await asyncio.wait((wake, get), timeout=_POLL_S,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            if not get.done():
                get.cancel()
        self._wake.clear()
        quotes = [get.result()] if get in done else []
        while not queue.empty():
            quotes.append(queue.get_nowait())
        return quotes

    async def stop(self) -> None:
        task = self._active
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def cycle(self, quotes: list[Quote]) -> None:
        """One pass over every instance (module docstring); the platform must be accepting."""
        if not self.platform.accepting:
            return
        await self._sync()
        for run in list(self.runs.values()):
            if run.state != "trading":
                continue
            try:
                await self._feed(run, quotes)
            except StrategyStoppedError as exc:
                await self._faulted(run, exc.fault)

    async def _sync(self) -> None:
        """Start a run for each running instance without one; end the runs of stopped ones."""
        instances = self.platform.kernel_runtime.kernel.state.instances
        for instance_id, run in list(self.runs.items()):
            if not instances[instance_id].running:
                await self._end(run)
        for instance in list(instances.values()):
            if instance.running and instance.id not in self.runs:
                await self._start(instance)

    # ---- one run --------------------------------------------------------------------------
    async def _registry_of(self) -> StrategyRegistry:
        if self._registry is None:
            from mcp_trading.services.strategies.service import StrategiesService

            svc = StrategiesService.for_platform(self.platform)
            self._registry = await asyncio.to_thread(svc.registry)
        return self._registry

    async def _start(self, instance: StrategyInstance) -> None:
        platform = self.platform
        timeout = platform.settings.strategy_callback_timeout_s
        guard = CallbackGuard(f"instance-{instance.id}", timeout_s=timeout)
        ctx = LiveContext(loop=asyncio.get_running_loop(),
                          trading=TradingService(platform.core),
                          state=lambda: platform.kernel_runtime.kernel.state,
                          clock=platform.clock, instance_id=instance.id,
                          account_id=instance.account_id, symbols=instance.symbols,
                          instruments=platform.instruments, timeout_s=timeout,
                          stopped=lambda: guard.stopped)
        try:
            cls = (await self._registry_of()).get(instance.strategy)
            params = cls.Params.parse(json.loads(instance.params))
            strategy = cls(params)
        except Exception as exc:  # the strategy is gone or its parameters no longer parse
            guard.close()
            fault = StrategyFault("raised", "load", type(exc).__name__, str(exc)[:500])
            run = _Run(instance, Strategy(), ctx, guard, bar_source(platform, instance.timeframe))
            await self._faulted(run, fault)
            return
        run = _Run(instance, strategy, ctx, guard, bar_source(platform, instance.timeframe))
        run.warmup = cls.warmup_bars(params)
        run.fills = {o.id: (o.filled_qty, o.filled_avg_price or _ZERO) for o in self._orders(run)}
        self.runs[instance.id] = run
        try:
            await self._call(run, "on_start", strategy.on_start)
            await self._warm(run)
        except StrategyStoppedError as exc:
            await self._faulted(run, exc.fault)
            return
        run.state = "trading"
        log.info("instance %s (%s) trading after %d warm-up bars", instance.id,
                 instance.strategy, run.warmed)

    async def _warm(self, run: _Run) -> None:
        """Replay the last `warmup` closed bars through on_bar, placing nothing."""
        bars: list[StrategyBar] = []
        for symbol in run.instance.symbols:
            got = await run.bars.latest(symbol, max(run.warmup, 1))
            if got:
                run.after[symbol] = got[-1].ts
            bars += got[-run.warmup:] if run.warmup else []
        run.ctx.warming = True
        try:
            await self._bars(run, bars, counted=False)
        finally:
            run.ctx.warming = False
        run.warmed = len(bars)

    async def _call(self, run: _Run, callback: str, fn: Any, *args: Any) -> None:
        await asyncio.to_thread(run.guard.call, callback, fn, run.ctx, *args)

    async def _feed(self, run: _Run, quotes: list[Quote]) -> None:
        fills = self._fills(run)
        for fill in fills:
            await self._call(run, "on_fill", run.strategy.on_fill, fill)
        bars: list[StrategyBar] = []
        for symbol in run.instance.symbols:
            got = await run.bars.completed(symbol, run.after[symbol])
            if got:
                run.after[symbol] = got[-1].ts
            bars += got
        await self._bars(run, bars, counted=True)
        if run.quotes and quotes:
            latest = {q.symbol: q for q in quotes if q.symbol in run.ctx.closes}
            for symbol in run.instance.symbols:
                if symbol in latest:
                    await self._call(run, "on_quote", run.strategy.on_quote, latest[symbol])

    async def _bars(self, run: _Run, bars: list[StrategyBar], *, counted: bool) -> None:
        order = {s: i for i, s in enumerate(run.instance.symbols)}
        for bar in sorted(bars, key=lambda b: (b.ts, order[b.symbol])):
            run.ctx.remember(bar.symbol, bar.close)
            await self._call(run, "on_bar", run.strategy.on_bar, bar)
            if counted:
                run.delivered += 1
                run.last_bar_ts = bar.ts

    def _orders(self, run: _Run) -> list[Any]:
        mine = run.ctx.attribution
        account = self.platform.kernel_runtime.kernel.state.accounts[run.instance.account_id]
        return [o for o in account.open_orders.values() if o.attribution == mine]

    def _fills(self, run: _Run) -> list[StrategyFill]:
        """The fills of the run's orders since the last cycle (module docstring)."""
        orders = self.platform.kernel_runtime.kernel.state.orders
        for order_id in run.ctx.placed:
            run.fills.setdefault(order_id, (_ZERO, _ZERO))
        run.ctx.placed.clear()
        out: list[StrategyFill] = []
        for order_id, (qty0, avg0) in list(run.fills.items()):
            order = orders.get(order_id)
            if order is None:  # released from memory: closed long ago
                del run.fills[order_id]
                continue
            qty, avg = order.filled_qty, order.filled_avg_price
            if qty > qty0 and avg is not None:
                # the price of this part, from the change of the average
                out.append(StrategyFill(order.id, order.symbol, order.side.value, qty - qty0,
                                        (avg * qty - avg0 * qty0) / (qty - qty0),
                                        order.updated_at))
                run.fills[order_id] = (qty, avg)
            if order.status not in WORKING:
                del run.fills[order_id]
        return out

    # ---- ending ---------------------------------------------------------------------------
    async def _faulted(self, run: _Run, fault: StrategyFault) -> None:
        """A callback raised or hung: journal the stop with the reason, alert, end the run."""
        run.fault = fault
        instance = run.instance
        reason = (f"{fault.callback} {'raised' if fault.kind == 'raised' else 'hung'}: "
                  + (f"{fault.error_type}: " if fault.error_type else "") + fault.message)
        kernel = self.platform.kernel_runtime.kernel
        if instance.running:
            kernel.stop_instance(instance.id, reason=reason, actor=RUNNER_ACTOR)
            await self.platform.durable()
        self.platform.alerts.raise_alert(
            "strategy_stopped", f"strategy instance {instance.id} ({instance.strategy}) was "
            f"stopped: {reason}", severity=Severity.WARNING, source="strategies",
            details={"instance_id": instance.id, "fault": fault.as_dict()},
            account_id=instance.account_id)
        log.warning("instance %s stopped: %s\n%s", instance.id, reason, run.guard.trace)
        await self._end(run, call_stop=False)

    async def _end(self, run: _Run, *, call_stop: bool = True) -> None:
        if call_stop and not run.guard.stopped and run.state == "trading":
            with contextlib.suppress(StrategyStoppedError):
                await self._call(run, "on_stop", run.strategy.on_stop)
        run.guard.close()
        run.state = "stopped"
        self.runs.pop(run.instance.id, None)
        self.ended[run.instance.id] = run.view()

    async def _close_all(self) -> None:
        """The platform stops: the guards end; the instances stay running in the journal."""
        for run in list(self.runs.values()):
            run.guard.close()
        self.runs.clear()


def background(platform: Platform) -> LiveRunner:
    """The strategies service's task: the platform's one live runner."""
    return LiveRunner.for_platform(platform)
