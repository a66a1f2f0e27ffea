"""The performance summary's arithmetic: a book (one account, or the totals of several) as
daily returns, its returns over periods, and a benchmark's buy-and-hold beside it.

A book's daily return is time-weighted: `r[t] = (E[t] − F[t]) / E[t−1] − 1`, where `E` is
the book's equity at the day's point (an account without a point that day counts at its last
one, or its inception cash) and `F[t]` the inception cash of accounts that joined the book
since the previous point — an account opened later is money put in, not a gain. A single
account has no such flow after its inception, so its returns are plain equity ratios from
its `AccountOpened` cash on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from mcp_trading.analytics.equity import FloatArray
from mcp_trading.reports.performance_source import AccountHistory

__all__ = ["BENCHMARK_STALE_DAYS", "Benchmark", "Book", "Period", "book_of", "period_of"]

#: a benchmark close more than this many calendar days before the day asked for is too old
#: to stand for it (a week covers weekends and holidays; beyond, the import stopped)
BENCHMARK_STALE_DAYS = 6


@dataclass(frozen=True, slots=True)
class Book:
    """Daily points of one account or of a group: `days` ascending after `base_day`."""

    name: str
    currency: str
    base_day: str  # inception (New York date)
    base: float  # inception equity (the sum of the inception cash of the accounts then)
    days: list[str]
    equity: FloatArray
    returns: FloatArray  # time-weighted daily return (module doc)
    pnl: FloatArray  # E[t] - F[t] - E[t-1]
    gross: FloatArray
    net: FloatArray
    sources: list[str]


@dataclass(frozen=True, slots=True)
class Period:
    """A book's return from `base_day`'s equity (`start_equity`) to `end_day`'s."""

    name: str
    start: str  # the first date the period covers
    base_day: str | None  # the date of the point the return is measured from
    end_day: str | None
    days: int  # daily returns in the period
    value: float | None
    pnl: float | None
    start_equity: float | None
    end_equity: float | None


def _opened(h: AccountHistory) -> str:
    return h.opened_day or (h.points[0].day if h.points else "9999-12-31")


def book_of(name: str, histories: list[AccountHistory]) -> Book:
    """The book of `histories` (of one currency; module doc for the returns)."""
    base_day = min(_opened(h) for h in histories)
    members = {h.account_id for h in histories if _opened(h) <= base_day}
    last = {h.account_id: float(h.initial) for h in histories}
    base = prev = sum(last[a] for a in members)
    days = sorted({p.day for h in histories for p in h.points})
    at = {(h.account_id, p.day): p for h in histories for p in h.points}
    cols: list[list[float]] = [[], [], [], [], []]  # equity, return, pnl, gross, net
    sources = []
    for day in days:
        joined = [h for h in histories if h.account_id not in members and _opened(h) <= day]
        flow = sum(float(h.initial) for h in joined)
        members |= {h.account_id for h in joined}
        gross = net = 0.0
        seen = []
        for h in histories:
            point = at.get((h.account_id, day))
            if point is not None:
                last[h.account_id] = float(point.equity)
                gross += float(point.gross)
                net += float(point.net)
                seen.append(point.source)
        equity = sum(last[a] for a in members)
        cols[0].append(equity)
        cols[1].append((equity - flow) / prev - 1.0 if prev > 0 else 0.0)
        cols[2].append(equity - flow - prev)
        cols[3].append(gross)
        cols[4].append(net)
        sources.append("journal_fold" if "journal_fold" in seen else seen[-1])
        prev = equity
    a = [np.asarray(c, dtype=np.float64) for c in cols]
    return Book(name, histories[0].currency, base_day, base, days, a[0], a[1], a[2], a[3], a[4],
                sources)


def period_of(book: Book, name: str, start: str, *, end: str) -> Period:
    """The book's return over the days in [start, end] (chained daily returns)."""
    picked = [i for i, d in enumerate(book.days) if start <= d <= end]
    if name == "day" and (not picked or book.days[picked[-1]] != end):
        picked = []
    if not picked:
        return Period(name, start, None, None, 0, None, None, None, None)
    first, last = picked[0], picked[-1]
    base_day = book.days[first - 1] if first else book.base_day
    start_equity = float(book.equity[first - 1]) if first else book.base
    value = float(np.prod(1.0 + book.returns[first:last + 1]) - 1.0)
    return Period(name, start, base_day, book.days[last], len(picked), value,
                  float(np.sum(book.pnl[first:last + 1])), start_equity,
                  float(book.equity[last]))


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A symbol's real daily closes by New York date (adjusted where the source says so)."""

    symbol: str
    source: str
    closes: dict[str, float]

    def close_on(self, day: str) -> float | None:
        return self.closes.get(day)

    def close_by(self, day: str) -> tuple[str, float] | None:
        """The last close on or before `day`, if at most BENCHMARK_STALE_DAYS older."""
        d = date.fromisoformat(day)
        for back in range(BENCHMARK_STALE_DAYS + 1):
            key = (d - timedelta(days=back)).isoformat()
            if key in self.closes:
                return key, self.closes[key]
        return None

    def change(self, base_day: str | None, end_day: str | None) -> float | None:
        """Buy-and-hold return from `base_day`'s close to `end_day`'s (None without both)."""
        if base_day is None or end_day is None:
            return None
        first, last = self.close_by(base_day), self.close_by(end_day)
        if first is None or last is None or first[0] == last[0]:
            return None if first is None or last is None else 0.0
        return last[1] / first[1] - 1.0

    def daily_pairs(self, book: Book, picked: list[int]) -> tuple[FloatArray, FloatArray]:
        """(book return, benchmark return) of each picked day whose close and the previous
        point's close both exist (the same two dates for both)."""
        ours, theirs = [], []
        for i in picked:
            prev_day = book.days[i - 1] if i else book.base_day
            now, then = self.close_on(book.days[i]), self.close_on(prev_day)
            if now is not None and then is not None and then > 0:
                ours.append(float(book.returns[i]))
                theirs.append(now / then - 1.0)
        return np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
