"""Equity history (framework-free): snapshots on demand, the end-of-day and intraday series.

    snapshot(principal, account_id=None)      operators: journal a "manual" EquitySnapshotted
                                              of one account or every customer account now
    history(principal, account_id, since, interval)
        interval "1Day":     per account and trading day the journal's snapshot (the last
                             "close" one, else the last "manual" one), from `since`'s day on
        interval "intraday": the sampler's rows (equity_samples) from `since` on

`since` is a date (YYYY-MM-DD: 00:00 in New York), an ISO time (naive = UTC) or a duration
back from now (`90m`, `12h`, `7d`, `2w`); default: everything kept. Decimals are strings.

The end-of-day series is read from the journal (where the snapshots are facts, surviving
restarts and backups) once, then only what was appended since (`SnapshotLog`); the
intraday series is a chart's, so it is stored beside the projections and not journaled.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mcp_trading.adapters.store.equity_samples import EquitySample, EquitySamples
from mcp_trading.domain.errors import InvalidError, UnavailableError
from mcp_trading.domain.events import EquitySnapshotted
from mcp_trading.domain.numbers import to_text
from mcp_trading.kernel.equity_commands import new_york_day
from mcp_trading.kernel.kernel import Kernel
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.reports.equity_source import equity_snapshots, last_per_day
from mcp_trading.security.access import accounts_in_scope, parse_time, require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.views import iso

__all__ = ["INTERVALS", "MAX_POINTS", "EquityHistoryService", "SnapshotLog", "parse_since",
           "snapshot_view"]

INTERVALS = ("1Day", "intraday")
MAX_POINTS = 50_000  # intraday rows in one answer (30 days of 1-minute samples of one account)
_NS = 1_000_000_000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"(\d{1,7})\s*([smhdw])", re.IGNORECASE)
_MAX_BACK_NS = 100 * 366 * 86_400 * _NS
_ZONE = ZoneInfo("America/New_York")


def parse_since(value: str | None, *, now_ns: int, name: str = "since") -> int | None:
    """`since` as ns since the epoch: a duration back from `now_ns`, a date (00:00 New York)
    or an ISO time (via `parse_time`); None when absent. InvalidError naming `name`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _DURATION.fullmatch(text)
    if match:
        back = int(match.group(1)) * _UNITS[match.group(2).lower()] * _NS
        if back <= 0 or back > _MAX_BACK_NS:
            raise InvalidError(f"{name}: {value!r} is out of range; give a duration of 1s "
                               "to 100 years, e.g. 12h or 7d", code="INVALID_PARAMETER",
                               field=name)
        return max(0, now_ns - back)
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None:
            return int(datetime(day.year, day.month, day.day, tzinfo=_ZONE).timestamp()) * _NS
    try:
        return parse_time(name, text)
    except InvalidError:
        raise InvalidError(f"{name}: {value!r} is neither a duration (a count and s, m, h, d "
                           "or w), a date nor a time; use e.g. 7d, 12h, 2026-12-01 or "
                           "2026-12-01T14:30:00Z",
                           code="INVALID_PARAMETER", field=name) from None


def snapshot_view(s: EquitySnapshotted) -> dict[str, Any]:
    return {"account_id": s.account_id, "day": s.day, "ts": iso(s.ts), "reason": s.reason,
            "actor": s.actor, "equity": to_text(s.equity), "cash": to_text(s.cash),
            "positions": [{"symbol": sym, "qty": to_text(qty), "mark": to_text(mark)}
                          for sym, qty, mark in s.positions]}


def _sample_view(s: EquitySample) -> dict[str, Any]:
    return {"ts": iso(s.ts), "equity": to_text(s.equity), "cash": to_text(s.cash)}


class SnapshotLog:
    """The journal's EquitySnapshotted events: read once, then only the records appended
    since the last read. `records(after_seq)` reads the journal (a JournalStore's `read`)."""

    def __init__(self, records: Callable[[int], Iterable[JournalRecord]]) -> None:
        self._records = records
        self._seq = 0
        self._snaps: list[EquitySnapshotted] = []
        self._lock = threading.Lock()

    def snapshots(self) -> list[EquitySnapshotted]:
        with self._lock:
            last = self._seq

            def tracked() -> Iterator[JournalRecord]:
                nonlocal last
                for record in self._records(self._seq):  # streamed: the journal in pages
                    last = max(last, record.seq)
                    yield record

            self._snaps += equity_snapshots(tracked(), after_seq=self._seq)
            self._seq = last
            return list(self._snaps)


class EquityHistoryService:
    def __init__(self, core: ServiceCore, log: SnapshotLog, samples: EquitySamples, *,
                 clock: Callable[[], int], sample_s: float) -> None:
        self.core = core
        self.log = log
        self.samples = samples
        self._now = clock
        self.sample_s = sample_s  # 0: sampling is off

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    async def snapshot(self, principal: Principal | None, account_id: str | None = None
                       ) -> dict[str, Any]:
        """Journal a "manual" snapshot (operators); answered once it is durable."""
        caller = require(principal, Role.OPERATOR)
        reason = self.core.unavailable_reason()
        if reason is not None:
            raise UnavailableError(reason, code="UNAVAILABLE")
        if caller.account_id is not None:
            account_id = resolve_account(caller, account_id, caller.account_id)
        snaps = self.kernel.snapshot_equity(reason="manual", actor=caller.actor,
                                            account_id=account_id)
        await self.core.durable()
        return {"snapshots": [snapshot_view(s) for s in snaps], "count": len(snaps)}

    def history(self, principal: Principal | None, *, account_id: str | None = None,
                since: str | None = None, interval: str = "1Day") -> dict[str, Any]:
        """The equity series of the accounts in the caller's scope (blocking reads: call it
        off the event loop)."""
        caller = require(principal, Role.VIEWER)
        if interval not in INTERVALS:
            raise InvalidError(f"interval: {interval!r} is not one of {', '.join(INTERVALS)}",
                               code="INVALID_PARAMETER", field="interval")
        now = self._now()
        since_ns = parse_since(since, now_ns=now)
        # a copy (one C call, atomic under the GIL): this runs on a worker thread
        accounts = dict(self.kernel.state.accounts)
        ids = [a.id for a in accounts_in_scope(accounts, caller, account_id)]
        body: dict[str, Any] = {"interval": interval, "since": iso(since_ns), "as_of": iso(now)}
        if interval == "1Day":
            first_day = new_york_day(since_ns) if since_ns is not None else ""
            days: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            for snap in last_per_day(self.log.snapshots()):
                if snap.day >= first_day and snap.account_id in days:
                    days[snap.account_id].append(snapshot_view(snap))
            body["accounts"] = [{"account_id": i, "points": days[i]} for i in ids]
            return body
        rows = self.samples.read(ids, since_ns or 0, MAX_POINTS + 1)
        body["sample_interval_s"] = self.sample_s
        body["truncated"] = len(rows) > MAX_POINTS
        if body["truncated"]:
            body["note"] = (f"more than {MAX_POINTS} samples: the oldest {MAX_POINTS} are "
                            "shown; give a later since (or one account_id) for the rest")
        points: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for row in rows[:MAX_POINTS]:
            points[row.account_id].append(_sample_view(row))
        body["accounts"] = [{"account_id": i, "points": points[i]} for i in ids]
        return body
