"""Clocks: the wall clock for live trading, a manual clock for tests and backtests."""

from __future__ import annotations

import time

__all__ = ["ManualClock", "WallClock"]


class WallClock:
    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """Time moves only when told to; a backtest sets it from the data."""

    def __init__(self, start_ns: int = 1_767_225_600 * 1_000_000_000) -> None:  # 2026-01-01
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, ts: int) -> None:
        if ts < self._now:
            raise ValueError(f"time cannot go backwards ({ts} < {self._now})")
        self._now = ts

    def advance(self, ns: int) -> int:
        self._now += ns
        return self._now
