"""Where this process's memory grows: a tracemalloc trace over an interval (runbook: High
Memory Usage — `memory_profiler.py`, `scripts/memory_leak_detector.py`).

`trace(interval_s, top)` starts tracemalloc (one frame per allocation: the site), takes a
snapshot, waits `interval_s` while the process serves as usual, takes another and compares
them by line: the sites whose live memory grew most, with the bytes and blocks added. It
samples the RSS every second meanwhile. Tracing costs every allocation some time while it
runs, so it runs only for the interval and is stopped after (unless it was on before); one
trace at a time per process (a second is refused with CONFLICT — in embedded mode every
service's port reaches the same process).
"""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from typing import Any

import psutil

from mcp_trading.domain.errors import ConflictError, InvalidError

__all__ = ["MAX_INTERVAL_S", "MAX_TOP", "parse_trace_args", "trace"]

MAX_INTERVAL_S = 600.0
MAX_TOP = 100
_LOCK = asyncio.Lock()
_IGNORED = (tracemalloc.__file__, asyncio.__file__.rsplit("/", 1)[0])


def parse_trace_args(interval: str | None, top: str | None) -> tuple[float, int]:
    """interval_s (required, 0.5..600) and top (1..100, default 15), named in any refusal."""
    if interval is None:
        raise InvalidError("interval_s is required: how long to trace, in seconds (0.5 to "
                           f"{MAX_INTERVAL_S:g}), e.g. ?interval_s=10", field="interval_s")
    try:
        seconds = float(interval)
    except ValueError:
        seconds = float("nan")
    if not 0.5 <= seconds <= MAX_INTERVAL_S:
        raise InvalidError(f"interval_s {interval!r}: give seconds from 0.5 to "
                           f"{MAX_INTERVAL_S:g}", field="interval_s")
    count = 15
    if top is not None:
        if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
            raise InvalidError(f"top {top!r}: give a whole number from 1 to {MAX_TOP}",
                               field="top")
        count = int(top)
    return seconds, count


def _site(stat: tracemalloc.StatisticDiff) -> dict[str, Any]:
    frame = stat.traceback[0]
    return {"file": _short(frame.filename), "line": frame.lineno,
            "size_diff_bytes": stat.size_diff, "count_diff": stat.count_diff,
            "size_bytes": stat.size}


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


async def trace(interval_s: float, top: int) -> dict[str, Any]:
    if _LOCK.locked():
        raise ConflictError("a memory trace is already running in this process; wait for it "
                            "(in embedded mode every service's port is the same process)")
    async with _LOCK:
        proc = psutil.Process()
        started_here = not tracemalloc.is_tracing()
        if started_here:
            tracemalloc.start(1)
        try:
            filters = [tracemalloc.Filter(False, f"{p}*") for p in _IGNORED]
            first = tracemalloc.take_snapshot().filter_traces(filters)
            rss = [proc.memory_info().rss]
            deadline = time.monotonic() + interval_s
            while (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(1.0, left))
                rss.append(proc.memory_info().rss)
            second = tracemalloc.take_snapshot().filter_traces(filters)
            current, peak = tracemalloc.get_traced_memory()
        finally:
            if started_here:
                tracemalloc.stop()
    grown = [s for s in second.compare_to(first, "lineno") if s.size_diff > 0][:top]
    return {"pid": os.getpid(), "interval_s": interval_s,
            "rss_bytes_start": rss[0], "rss_bytes_end": rss[-1],
            "rss_bytes_max": max(rss), "rss_samples": len(rss),
            "traced_bytes": current, "traced_peak_bytes": peak,
            "growth_bytes": sum(s.size_diff for s in second.compare_to(first, "lineno")),
            "top_growing": [_site(s) for s in grown]}
