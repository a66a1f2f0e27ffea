"""A fixed-bucket latency histogram fine enough for tail percentiles, cheap per observation.

Prometheus' own Histogram scans its bucket list linearly on every observation and its 12
coarse latency buckets cannot tell a 12 ms p99.9 from a 24 ms one. This one has 20 buckets a
decade (each 12 % wider than the last) from 50 µs to 20 s, finds the bucket by bisection and
keeps only counts (no per-observation record); `/metrics` exposes it as an ordinary
Prometheus histogram, so a reader diffs two scrapes and interpolates percentiles from them
(benchmarks/soak.py does).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

__all__ = ["BOUNDS", "FineHistogram", "percentile_of"]

#: upper bounds (seconds): 10 ** (k / 20) for 50 µs .. 20 s
BOUNDS: tuple[float, ...] = tuple(10 ** (k / 20) for k in range(-86, 27))


class FineHistogram(Collector):
    """Counts per fixed bucket (+Inf last); observe() is one bisection and two additions.

    Called on the event loop's thread only (no lock): an increment of a list item by the one
    thread that writes it, read whole by the scrape on that same thread.
    """

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.counts = [0] * (len(BOUNDS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BOUNDS, seconds)] += 1
        self.total += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        cumulative, running = [], 0
        for bound, count in zip((*BOUNDS, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append((_label(bound), running))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative,
                                    sum_value=self.total)


def _label(bound: float) -> str:
    return "+Inf" if bound == float("inf") else f"{bound:.6g}"


def percentile_of(buckets: list[tuple[float, int]], q: float) -> float | None:
    """The q-quantile (0..1) from cumulative (upper bound, count) pairs in bound order, linear
    within its bucket (the first bucket starts at 0); None when empty. In the buckets' unit."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0
    for bound, cumulative in buckets:
        if cumulative >= rank and cumulative > below:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / (cumulative - below)
        lower, below = bound, cumulative
    return lower
