"""The lifecycle log's queue: the journal writer hands batches over without waiting; a full
queue drops them and counts the dropped events (in /metrics too); lines render lazily."""

from __future__ import annotations

import io
import logging
import time
from decimal import Decimal
from pathlib import Path

from mcp_trading.config import Settings
from mcp_trading.domain import events as ev
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap, in_memory
from mcp_trading.platform.lifecycle_log import LifecycleLog
from mcp_trading.platform.logs import (
    _process,
    configure_logging,
    lifecycle_dropped,
    shutdown_logging,
)
from mcp_trading.platform.metrics import Metrics


def _accepted(n: int) -> ev.OrderAccepted:
    request = OrderRequest.parse(symbol="AAPL", qty="1", side="buy", type="market",
                                 time_in_force="day", client_order_id=f"c-{n}")
    return ev.OrderAccepted(f"o-{n}", "paper", request, None, Decimal(0), True, 0, None,
                            "key:abc", 0)


def _sink() -> tuple[logging.Handler, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, out


def test_a_full_queue_drops_and_counts_and_never_blocks_the_writer() -> None:
    target, out = _sink()
    lifecycle = LifecycleLog([target], capacity=10, service="t", json_lines=True)
    # the listener is not started: nothing drains the queue, so it fills after 10 batches
    started = time.perf_counter()
    for n in range(1000):
        lifecycle.submit(n * 2 + 1, [_accepted(n), ev.OrderRouted(f"o-{n}", 0)])
    elapsed = time.perf_counter() - started
    assert lifecycle.dropped == 990 * 2  # events, not batches
    assert elapsed < 1.0  # 1,000 hand-overs without a wait (~µs each)
    lifecycle.start()
    lifecycle.stop()  # drains what was queued
    lines = out.getvalue().splitlines()
    assert len(lines) == 10  # the 10 queued batches' accepted orders; routed gets no line
    assert '"client_order_id": "c-0"' in lines[0]


def test_the_journal_keeps_committing_while_the_log_queue_is_full(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, log_queue=10, projection="off")
    configure_logging(settings)
    try:
        platform = bootstrap(settings)  # the store DATABASE_URL names: the platform's own
        platform.open()
        runtime = platform.kernel_runtime
        assert _process.active is not None
        lifecycle = _process.active.lifecycle
        lifecycle.stop()  # nothing drains: the queue fills
        metrics = Metrics()
        kernel = runtime.kernel
        for _ in range(50):
            kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty="1", side="buy",
                                                      type="limit", limit_price="1.00",
                                                      time_in_force="day"))
            runtime.journal.flush(5.0)  # one durable batch per order: 50 hand-overs
        assert runtime.journal.durable_seq == kernel.seq  # every order durable regardless
        assert lifecycle_dropped() >= 40
        scraped = metrics.render().decode()
        assert f"mcp_trading_log_lines_dropped {float(lifecycle_dropped())}" in scraped
        runtime.close()
    finally:
        shutdown_logging()
    assert lifecycle_dropped() == 0  # logging torn down: nothing counted any more


def test_lines_are_rendered_by_the_listener_not_the_writer() -> None:
    target, out = _sink()
    lifecycle = LifecycleLog([target], capacity=100, service="t", json_lines=False)
    lifecycle.submit(1, [_accepted(1)])
    queued = lifecycle.queue.get_nowait()
    assert queued.getMessage() == "batch"  # handed over as the events, unformatted
    assert out.getvalue() == ""


def test_a_kernel_over_a_store_the_caller_gave_is_not_logged(tmp_path: Path) -> None:
    """A backtest's kernel (inside the strategies service) or a test's in-memory journal:
    not the platform's trading, so not in its log."""
    configure_logging(Settings(_env_file=None, data_dir=tmp_path))
    try:
        platform = in_memory(Settings(_env_file=None, data_dir=tmp_path))
        runtime = platform.kernel_runtime
        assert getattr(runtime.journal, "on_events", None) is None
        runtime.kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty="1", side="buy",
                                                          type="limit", limit_price="1.00",
                                                          time_in_force="day"))
        runtime.journal.flush(5.0)
        runtime.close()
    finally:
        shutdown_logging()
    assert "order accepted" not in (tmp_path / "logs" / "platform.log").read_text()
