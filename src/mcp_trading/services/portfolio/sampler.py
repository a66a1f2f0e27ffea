"""The intraday equity sampler: every `equity_sample_s` seconds each customer account's
equity and cash, at the kernel's marks, go to the `equity_samples` table; samples older than
`equity_sample_keep_days` are pruned (at start, then hourly). Not journaled: a chart series,
not a fact of the book (the end-of-day history is journaled, as EquitySnapshotted).

`equity_history(platform)` is the one `EquityHistoryService` of a platform, shared by the
REST routes, the MCP tool and the sampler (the in-memory sample store must be one object).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable

from mcp_trading.adapters.store.equity_samples import EquitySample, open_equity_samples
from mcp_trading.domain.accounts import Account
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio.equity import EquityHistoryService, SnapshotLog

__all__ = ["PRUNE_EVERY_S", "EquitySampler", "background", "equity_history", "sample_rows"]

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
_DAY_NS = 86_400 * 1_000_000_000
_SERVICES: weakref.WeakKeyDictionary[Platform, EquityHistoryService] = (
    weakref.WeakKeyDictionary())


def equity_history(platform: Platform) -> EquityHistoryService:
    """The platform's equity history service (built on first use)."""
    svc = _SERVICES.get(platform)
    if svc is None:
        s = platform.settings

        def records(after: int) -> Iterable[JournalRecord]:
            return platform.core.kernel_runtime.journal.store.read(after)

        svc = _SERVICES[platform] = EquityHistoryService(
            platform.core, SnapshotLog(records), open_equity_samples(s.resolved_reports_url),
            clock=platform.clock.now_ns, sample_s=s.equity_sample_s)
    return svc


def sample_rows(accounts: Iterable[Account], ts: int) -> list[EquitySample]:
    """One sample per customer account (internal ones, ids starting with "_", left out)."""
    return [EquitySample(ts, a.id, a.equity, a.cash) for a in accounts
            if not (a.internal or a.id.startswith("_"))]


class EquitySampler:
    """The sampler as a Background (run / stop)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.interval = platform.settings.equity_sample_s
        self.keep_ns = platform.settings.equity_sample_keep_days * _DAY_NS
        self.samples_taken = 0
        self._next_prune = 0.0

    async def run(self) -> None:
        if not self.interval:
            log.info("intraday equity sampling is off (MCP_TRADING_EQUITY_SAMPLE_S=0)")
            await asyncio.Event().wait()  # idle until cancelled
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            platform = self.platform
            if platform.runtime is None or not platform.accepting:
                continue  # not started, or stopping
            try:
                await self.sample(prune=loop.time() >= self._next_prune)
            except Exception:  # the database away: the next sample tries again
                log.warning("equity sample failed; sampling on", exc_info=True)
                continue
            if loop.time() >= self._next_prune:
                self._next_prune = loop.time() + PRUNE_EVERY_S

    async def sample(self, *, prune: bool = False) -> int:
        """Take one sample of every customer account now (and prune old ones)."""
        svc = equity_history(self.platform)
        kernel = self.platform.core.kernel
        now = kernel.clock.now_ns()
        rows = sample_rows(list(kernel.state.accounts.values()), now)
        await asyncio.to_thread(svc.samples.add, rows)
        self.samples_taken += len(rows)
        if prune:
            gone = await asyncio.to_thread(svc.samples.prune, now - self.keep_ns)
            if gone:
                log.info("%d intraday equity samples older than %d days pruned", gone,
                         self.keep_ns // _DAY_NS)
        return len(rows)

    async def stop(self) -> None:
        return None  # the sample store stays open for the routes that read it


def background(platform: Platform) -> EquitySampler:
    """The spec's task: sample every account's equity for the intraday chart."""
    return EquitySampler(platform)
