"""The engine's fine acknowledgement histogram: percentiles a reader can trust from scrapes."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, generate_latest

from mcp_trading.platform.latency import BOUNDS, FineHistogram, percentile_of


def _buckets(hist: FineHistogram) -> list[tuple[float, int]]:
    family = next(iter(hist.collect()))
    return [(float(s.labels["le"]), int(s.value)) for s in family.samples
            if s.name.endswith("_bucket")]


def test_percentiles_within_one_bucket_of_the_exact_ones() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-6.0, 1.0) for _ in range(20_000)]  # ~2.5 ms median
    hist = FineHistogram("t_seconds", "test")
    for v in values:
        hist.observe(v)
    ordered = sorted(values)
    for q in (0.5, 0.99, 0.999):
        exact = ordered[int(q * len(ordered))]
        estimate = percentile_of(_buckets(hist), q)
        assert estimate is not None
        assert abs(estimate - exact) / exact < 0.13  # a bucket is 12 % wide


def test_a_slow_tail_is_seen_and_the_sum_is_kept() -> None:
    hist = FineHistogram("t_seconds", "test")
    for _ in range(998):
        hist.observe(0.002)
    hist.observe(0.030)
    hist.observe(0.030)
    estimate = percentile_of(_buckets(hist), 0.999)
    assert estimate is not None and 0.025 < estimate <= 0.0316
    assert abs(hist.total - (998 * 0.002 + 0.060)) < 1e-9


def test_difference_of_two_scrapes_is_the_period_between() -> None:
    hist = FineHistogram("t_seconds", "test")
    for _ in range(1000):
        hist.observe(0.1)  # before the period
    first = _buckets(hist)
    for _ in range(1000):
        hist.observe(0.001)
    diff = [(b, n - m) for (b, m), (_, n) in zip(first, _buckets(hist), strict=True)]
    p99 = percentile_of(diff, 0.99)
    assert p99 is not None and 0.0008 < p99 <= 0.0011
    assert percentile_of([(b, 0) for b in BOUNDS], 0.5) is None


def test_exposed_in_prometheus_text_with_every_bucket() -> None:
    registry = CollectorRegistry()
    hist = FineHistogram("mcp_trading_t_seconds", "test")
    registry.register(hist)
    hist.observe(100.0)  # beyond the last bound: counted in +Inf
    text = generate_latest(registry).decode()
    assert text.count("mcp_trading_t_seconds_bucket{") == len(BOUNDS) + 1
    assert 'mcp_trading_t_seconds_bucket{le="+Inf"} 1.0' in text
    assert "mcp_trading_t_seconds_count 1.0" in text
