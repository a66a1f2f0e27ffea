"""The lifecycle log's hand-over: the journal writer writes each durable batch's encoded segment
into the writer process's pipe without waiting; what a full pipe does not take waits in a
bounded queue, beyond which it is dropped and its events counted (in /metrics too); the
writer process renders the lines, following the file's renames."""

from __future__ import annotations

import fcntl
import io
import os
import signal
import time
from decimal import Decimal
from pathlib import Path

from mcp_trading.config import Settings
from mcp_trading.domain import events as ev
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.kernel import codec
from mcp_trading.platform.bootstrap import bootstrap, in_memory
from mcp_trading.platform.lifecycle_log import FRAME, LifecycleLog
from mcp_trading.platform.lifecycle_writer import LineFile, run
from mcp_trading.platform.logs import (
    _process,
    configure_logging,
    lifecycle_dropped,
    shutdown_logging,
)
from mcp_trading.platform.metrics import Metrics


def _request(n: int) -> OrderRequest:
    return OrderRequest.parse(symbol="AAPL", qty="2", side="buy", type="limit",
                              limit_price="90.00", time_in_force="day",
                              client_order_id=f"c-{n}")


def _accepted(n: int) -> ev.OrderAccepted:
    return ev.OrderAccepted(f"o-{n}", "paper", _request(n), None, Decimal(0), True, 0, None,
                            "key:abc", 0)


def _frames(*frames: tuple[bytes, bytes]) -> io.BytesIO:
    return io.BytesIO(b"".join(FRAME.pack(kind, 1_800_000_000.0, len(p)) + p
                               for kind, p in frames))


def test_a_full_queue_drops_and_counts_and_never_blocks_the_writer(tmp_path: Path) -> None:
    lifecycle = LifecycleLog(tmp_path / "platform.log", capacity=10, service="t",
                             json_lines=True)
    # not started: nothing drains the queue, so it is full after 10 batches
    started = time.perf_counter()
    for n in range(1000):
        lifecycle.submit(n * 2 + 1, codec.segment_of(n * 2 + 1, [_accepted(n),
                                                                  ev.OrderRouted(f"o-{n}", 0)]))
    elapsed = time.perf_counter() - started
    assert lifecycle.dropped == 990 * 2  # events, not batches
    assert elapsed < 2.0  # 1,000 hand-overs and no wait (a few µs each on a quiet machine)
    lifecycle.start()
    lifecycle.stop()  # sends what was queued; the writer writes it and exits
    lines = (tmp_path / "platform.log").read_text().splitlines()
    assert len(lines) == 10  # the queued batches' accepted orders; routed gets no line
    assert '"client_order_id": "c-0"' in lines[0]


def test_the_journal_keeps_committing_while_the_log_queue_is_full(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, log_queue=10, projection="off")
    configure_logging(settings)
    try:
        platform = bootstrap(settings)  # the store DATABASE_URL names: the platform's own
        platform.open()
        runtime = platform.kernel_runtime
        assert _process.active is not None
        sender = _process.active.lifecycle.sender
        assert sender.proc is not None
        os.kill(sender.proc.pid, signal.SIGSTOP)  # a writer that reads nothing any more,
        fcntl.fcntl(sender.fd, fcntl.F_SETPIPE_SZ, 4096)  # behind the smallest pipe
        metrics = Metrics()
        kernel = runtime.kernel
        for n in range(50):
            kernel.submit("paper", _request(n))
            runtime.journal.flush(5.0)  # one durable batch per order: 50 hand-overs
        assert runtime.journal.durable_seq == kernel.seq  # every order durable regardless
        assert lifecycle_dropped() >= 10  # 50 batches: a page of pipe, 10 queued, dropped
        scraped = metrics.render().decode()
        assert f"mcp_trading_log_lines_dropped {float(lifecycle_dropped())}" in scraped
        runtime.close()
        os.kill(sender.proc.pid, signal.SIGCONT)
    finally:
        shutdown_logging()
    assert lifecycle_dropped() == 0  # logging torn down: nothing counted any more


def test_a_kernel_over_a_store_the_caller_gave_is_not_logged(tmp_path: Path) -> None:
    """A backtest's kernel (inside the strategies service) or a test's in-memory journal:
    not the platform's trading, so not in its log."""
    configure_logging(Settings(_env_file=None, data_dir=tmp_path))
    try:
        platform = in_memory(Settings(_env_file=None, data_dir=tmp_path))
        runtime = platform.kernel_runtime
        assert getattr(runtime.journal, "on_durable", None) is None
        runtime.kernel.submit("paper", _request(1))
        runtime.journal.flush(5.0)
        runtime.close()
    finally:
        shutdown_logging()
    assert "order accepted" not in (tmp_path / "logs" / "platform.log").read_text()


def test_the_writer_names_orders_it_learned_from_the_open_orders_frame(tmp_path: Path) -> None:
    """A fill of an order accepted before a restart: the kernel's book (sent once at start)
    gives its symbol, side, account and client order id."""
    known = (b'[{"order_id": "o-7", "account": "swing", "attribution": "agent:x", '
             b'"filled": "1", "request": {"symbol": "MSFT", "qty": "3", "side": "sell", '
             b'"type": "market", "time_in_force": "day", "client_order_id": "c-7"}}]')
    fill = codec.segment_of(5, [ev.OrderFilled("o-7", Decimal(2), Decimal("410.5"),
                                               Decimal(0), 0)]).payload
    out = LineFile(tmp_path / "platform.log")
    try:
        assert run(_frames((b"O", known), (b"S", fill)), out, service="t", json_lines=False) == 1
    finally:
        out.close()
    [line] = (tmp_path / "platform.log").read_text().splitlines()
    for part in ("order filled", "seq=5", "order_id=o-7", "client_order_id=c-7",
                 "account=swing", "symbol=MSFT", "side=sell", "price=410.5", "filled_qty=3"):
        assert part in line
    assert line.startswith("2027-01-15T08:00:00.000000Z")  # the frame's durable time


def test_the_writer_follows_a_rename_and_masks_secrets(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    out = LineFile(path)
    secret = "mcpt_AbCdEfGhIjKl_" + "s" * 30
    try:
        first = codec.segment_of(1, [_accepted(1)]).payload
        run(_frames((b"S", first)), out, service="t", json_lines=True)
        path.rename(tmp_path / "platform.log.20270101T000000")  # the parent rotated it
        leaky = ev.OrderRejected("o-2", "paper", _request(2), "RISK_MAX_QTY",
                                 f"refused for {secret}", "key:abc", 0)
        run(_frames((b"S", codec.segment_of(2, [leaky]).payload)), out, service="t",
            json_lines=True)
    finally:
        out.close()
    assert "c-1" in (tmp_path / "platform.log.20270101T000000").read_text()
    text = path.read_text()
    assert '"code": "RISK_MAX_QTY"' in text and secret not in text and "AbCdEfGhIjKl" in text


def test_a_frame_that_cannot_be_rendered_costs_its_lines_not_the_writer(
        tmp_path: Path) -> None:
    out = LineFile(tmp_path / "platform.log")
    good = codec.segment_of(1, [_accepted(1)]).payload
    try:
        written = run(_frames((b"O", b"not json"), (b"S", b"\x00garbage"), (b"S", good)), out,
                      service="t", json_lines=True)
    finally:
        out.close()
    assert written == 1
    assert '"client_order_id": "c-1"' in (tmp_path / "platform.log").read_text()


def test_a_writer_that_died_is_started_again_and_told_the_open_orders(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    lifecycle = LifecycleLog(path, capacity=100, service="t", json_lines=True)
    lifecycle.watch({})
    try:
        lifecycle.submit(1, codec.segment_of(1, [_accepted(1)]))
        first = lifecycle.sender.proc
        assert first is not None
        deadline = time.monotonic() + 60
        while "c-1" not in (path.read_text() if path.exists() else ""):
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.1)
        first.kill()
        first.wait()
        lifecycle.submit(2, codec.segment_of(2, [_accepted(2)]))
    finally:
        lifecycle.stop()
    assert lifecycle.sender.respawns == 1 and lifecycle.dropped == 0
    assert '"client_order_id": "c-2"' in path.read_text()


def test_a_frame_larger_than_the_pipe_is_written_whole_when_the_writer_reads_again(
        tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    lifecycle = LifecycleLog(path, capacity=100, service="t", json_lines=True)
    lifecycle.watch({})
    sender = lifecycle.sender
    assert sender.proc is not None
    os.kill(sender.proc.pid, signal.SIGSTOP)
    try:
        fcntl.fcntl(sender.fd, fcntl.F_SETPIPE_SZ, 4096)
        big = codec.segment_of(1, [_accepted(n) for n in range(200)])  # pages of it
        assert len(big.payload) > 3 * 4096
        started = time.perf_counter()
        lifecycle.submit(1, big)  # a page goes now, the rest waits
        lifecycle.submit(201, codec.segment_of(201, [_accepted(200)]))
        assert time.perf_counter() - started < 1.0  # never waits for the stopped reader
    finally:
        os.kill(sender.proc.pid, signal.SIGCONT)
        lifecycle.stop()
    lines = path.read_text().splitlines()
    assert [f'"client_order_id": "c-{n}"' in line for n, line in enumerate(lines)] == [True] * 201
    assert lifecycle.dropped == 0
