"""Opt-in timing of the acknowledgement path, stage by stage (`MCP_TRADING_ACK_TRACE=<file>`).

    request:  start (bytes read by the server) -> decided (kernel done; durable wait begins)
    journal:  first append of the batch -> writer picks it up -> encoded -> store.append done
              -> committed (durable_seq set, loops told) -> futures resolved on the loop
    request:  resumed (the handler runs again) -> sent (response handed to the transport)

Off by default, and then nothing here runs: the journal swaps in a traced `append` only when
a trace is given, and every other hook is one `is None` test per batch or per request. On,
it keeps a tuple of floats per batch and per request (a soak's worth is a few MB) and the
cyclic collector's pauses; `summary()` joins each request to the batch that made it durable
and gives every stage's percentiles and the breakdown of the slowest requests.

`dump_memory` is the memory side of the same debug aid (the platform calls it on SIGUSR1
while tracing): RSS, glibc's heap figures and, when tracemalloc runs
(`PYTHONTRACEMALLOC=1`), a snapshot to diff against a later one.
"""

from __future__ import annotations

import bisect
import contextvars
import ctypes
import gc
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

__all__ = ["AckTrace", "current_request", "dump_memory"]

_now = time.perf_counter

#: the request being timed on this task: [start, seq, decided, resumed] (FastRoute sets it)
current_request: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "ack_trace_request", default=None)

#: a committed batch: first seq, last seq, first append, pickup, encoded, stored, committed
Batch = tuple[int, int, float, float, float, float, float]

_BATCH_STAGES = ("queued", "encode", "store", "notify", "resolve")
_REQUEST_STAGES = ("handle", "durable_wait", "to_pickup", "resume", "respond", "total")


class AckTrace:
    """Timestamps of the acknowledgement path; see the module docstring."""

    def __init__(self) -> None:
        #: first seq, last seq, first append, pickup, encoded, stored, committed
        self.batches: list[Batch] = []
        self.resolved: dict[int, float] = {}  # batch index -> futures resolved on the loop
        #: start, seq, decided, resumed, sent
        self.requests: list[tuple[float, int, float, float, float]] = []
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0
        #: (end, duration, what): collections, loop lags, snapshot steps; to see what
        #: coincides with a stall
        self.marks: list[tuple[float, float, str]] = []
        self.started = _now()

    # ---- hooks ----------------------------------------------------------------------------
    def batch(self, row: Batch) -> None:
        self.batches.append(row)

    def resolve(self, index: int) -> None:
        self.resolved[index] = _now()

    def request(self, start: float, seq: int, decided: float, resumed: float) -> None:
        self.requests.append((start, seq, decided, resumed, _now()))

    def watch_gc(self) -> None:
        gc.callbacks.append(self._on_gc)

    def lag(self, started: float, ended: float, thread_cpu: float, process_cpu: float) -> None:
        """A late loop timer, with the CPU time the loop's thread and the whole process used
        meanwhile: little of either means the process was not running (the machine)."""
        self.marks.append((ended, ended - started, f"lag {1000 * thread_cpu:.0f}/"
                                                   f"{1000 * process_cpu:.0f}"))

    def mark(self, what: str, started: float, ended: float | None = None) -> None:
        ended = _now() if ended is None else ended
        self.marks.append((ended, ended - started, what))

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = _now()
        elif self._gc_started:
            now = _now()
            self.gc_pauses.append(now - self._gc_started)
            self.marks.append((now, now - self._gc_started, f"gc{info['generation']}"))

    # ---- report ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Per-stage percentiles (ms) and the mean breakdown of the slowest 0.1 % requests."""
        batches = self.batches
        stages: dict[str, list[float]] = {name: [] for name in (*_BATCH_STAGES, *_REQUEST_STAGES)}
        for index, (_, _, appended, pickup, encoded, stored, committed) in enumerate(batches):
            stages["queued"].append(pickup - appended)
            stages["encode"].append(encoded - pickup)
            stages["store"].append(stored - encoded)
            stages["notify"].append(committed - stored)
            if index in self.resolved:
                stages["resolve"].append(self.resolved[index] - committed)
        lasts = [b[1] for b in batches]
        rows: list[dict[str, float]] = []
        for start, seq, decided, resumed, sent in self.requests:
            row = {"handle": decided - start, "durable_wait": resumed - decided,
                   "respond": sent - resumed, "total": sent - start}
            at = bisect.bisect_left(lasts, seq)
            if seq and at < len(batches):
                _, _, _, pickup, encoded, stored, committed = batches[at]
                row.update(to_pickup=max(0.0, pickup - decided), encode=encoded - pickup,
                           store=stored - encoded, notify=committed - stored)
                done = self.resolved.get(at)
                if done is not None:
                    row.update(resolve=done - committed, resume=resumed - done)
            for name in _REQUEST_STAGES:
                if name in row:
                    stages[name].append(row[name])
            row["at"] = start
            rows.append(row)
        rows.sort(key=lambda r: r["total"])
        tail = rows[-max(1, len(rows) // 1000):] if rows else []
        names = ("handle", "to_pickup", "encode", "store", "notify", "resolve", "resume",
                 "respond", "durable_wait", "total")
        return {
            "seconds": round(_now() - self.started, 1),
            "batches": len(batches), "requests": len(rows),
            "events_per_batch_p50": _pct([float(b[1] - b[0] + 1) for b in batches], 0.5, 1),
            "stages_ms": {name: _percentiles(values) for name, values in stages.items()},
            "slowest_0_1pct_mean_ms": {
                name: round(1000 * sum(r.get(name, 0.0) for r in tail) / len(tail), 3)
                for name in names} if tail else {},
            "gc_pauses_ms": _percentiles(self.gc_pauses) | {"count": len(self.gc_pauses)},
            "stalls": self._stalls(),
            "marks_ms": self._marks(),
            "slowest_acks": self._slowest_acks(rows[-15:]),
        }

    def _marks(self) -> dict[str, dict[str, float]]:
        """Each kind of mark but the loop lags (collections, snapshot steps): count and
        percentiles of its durations."""
        kinds: dict[str, list[float]] = {}
        for _, length, what in self.marks:
            if not what.startswith("lag"):
                kinds.setdefault(what, []).append(length)
        return {what: _percentiles(lengths) | {"count": len(lengths)}
                for what, lengths in sorted(kinds.items())}

    def _slowest_acks(self, slowest: list[dict[str, float]]) -> list[dict[str, Any]]:
        """The slowest acknowledgements (rows of `summary`), each with its stages and the
        marks (a collection, a snapshot step, a loop lag) that overlapped it: what it waited
        behind."""
        marks = sorted(self.marks)
        out = []
        for row in reversed(slowest):
            start = row["at"]
            overlap = _overlapping(marks, start, start + row["total"], 0.002)
            out.append({"at_s": round(start - self.started, 2),
                        "stages_ms": {k: round(1000 * v, 1) for k, v in row.items()
                                      if k != "at" and v > 0.0005},
                        "with": overlap[:8]})
        return out

    def _stalls(self) -> list[dict[str, Any]]:
        """The 15 longest loop lags over 15 ms, each with the marks that overlapped it."""
        marks = sorted(self.marks)
        lags = sorted((m for m in marks if m[2].startswith("lag") and m[1] > 0.015),
                      key=lambda m: -m[1])
        out = []
        for end, length, what in lags[:15]:
            begin = end - length
            overlap = _overlapping(marks, begin, end, 0.001, lags=False)
            out.append({"at_s": round(end - self.started, 2), "lag_ms": round(1000 * length, 1),
                        "cpu_ms_loop_thread/process": what[4:], "with": overlap})
        return out

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.summary(), indent=2))


def _overlapping(marks: list[tuple[float, float, str]], begin: float, end: float,
                 longer_than: float, *, lags: bool = True) -> list[str]:
    """The marks longer than `longer_than` seconds that overlapped [begin, end], as text."""
    return [f"{w} {1000 * d:.1f} ms" for e, d, w in marks
            if e >= begin and e - d <= end and d > longer_than and (lags or not w.startswith("lag"))]


_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
              "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def dump_memory(path: str | Path) -> dict[str, Any]:
    """Write `<path>.json` (RSS, glibc mallinfo2, tracemalloc totals) and, when tracemalloc
    is tracing, `<path>.tracemalloc` (a snapshot for `tracemalloc.Snapshot.load`)."""
    figures: dict[str, Any] = {"at": _now()}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
            figures[line.split(":")[0]] = int(line.split()[1]) * 1024
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        figures["mallinfo2"] = {name: getattr(info, name) for name in _MALLINFO2}
    except (OSError, AttributeError):  # not glibc 2.33+
        pass
    if tracemalloc.is_tracing():
        figures["traced"], figures["traced_peak"] = tracemalloc.get_traced_memory()
        tracemalloc.take_snapshot().dump(f"{path}.tracemalloc")
    Path(f"{path}.json").write_text(json.dumps(figures))
    return figures


def _pct(values: list[float], q: float, scale: float = 1000.0) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale, 3)


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": _pct(values, 0.5), "p99": _pct(values, 0.99), "p999": _pct(values, 0.999),
            "max": _pct(values, 1.0)}
