"""Snapshots by a forked child: the same state as the writer's, nothing sealed in the parent,
and a child that fails costs a snapshot, never an event."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel import forked, snapshot
from mcp_trading.kernel.dedupe import DAY_NS, DedupeIndex, pack, request_digest
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.runtime import KernelRuntime, recover

from ..conftest import instruments

pytestmark = pytest.mark.skipif(not forked.CAN_FORK, reason="fork() is not available here")


def _runtime(mode: str = "fork") -> KernelRuntime:
    runtime = recover(MemoryJournalStore(), instruments=instruments(), clock=ManualClock(),
                      calendar=AlwaysOpen(), config=KernelConfig(id_base=1), snapshot_every=1,
                      snapshot_mode=mode)
    for i in range(50):
        runtime.kernel.submit("paper", OrderRequest.parse(
            symbol="AAPL", side="buy", qty=1 + i, type="limit", limit_price="90.00",
            client_order_id=f"c-{i}"))
    digest = request_digest(OrderRequest.parse(symbol="AAPL", side="buy", qty=1))
    for i in range(1_000):
        runtime.kernel.state.dedupe.add("paper", f"closed-{i}", pack(f"id-{i}", digest))
    return runtime


def test_the_child_encodes_the_writers_state_and_the_parent_seals_nothing() -> None:
    runtime = _runtime()
    assert runtime.forks
    state = runtime.kernel.state
    assert asyncio.run(runtime.snapshot_off_loop())
    runtime.journal.flush()
    saved = runtime.journal.store.latest_snapshot()
    assert saved is not None and saved.seq == state.seq
    loaded = snapshot.load(saved, instruments(), runtime.kernel.config.slippage)
    assert sorted(loaded.orders) == sorted(state.orders)
    assert loaded.dedupe.as_dict() == state.dedupe.as_dict()
    # the seal happened in the child's copy only: the writer's current generation is intact
    assert state.dedupe.sealed == [] and len(state.dedupe.current["paper"]) == 1_000
    assert not runtime.snapshot_due()
    runtime.close()


def test_a_child_that_dies_skips_the_snapshot_and_it_is_due_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _runtime()
    real = forked.fork_snapshot

    def killed(state: object) -> forked.ForkedSnapshot:
        job = real(state)  # type: ignore[arg-type]
        os.kill(job.pid, signal.SIGKILL)
        return job

    monkeypatch.setattr(forked, "fork_snapshot", killed)
    assert asyncio.run(runtime.snapshot_off_loop()) is False
    runtime.journal.flush()
    assert runtime.journal.store.latest_snapshot() is None
    assert runtime.snapshot_due()  # the next housekeeping tick tries again
    monkeypatch.setattr(forked, "fork_snapshot", real)
    assert asyncio.run(runtime.snapshot_off_loop())
    runtime.close()


def test_thread_mode_still_encodes_on_a_worker_thread() -> None:
    runtime = _runtime("thread")
    assert not runtime.forks
    assert asyncio.run(runtime.snapshot_off_loop())
    runtime.journal.flush()
    assert runtime.journal.store.latest_snapshot() is not None
    assert runtime.kernel.state.dedupe.sealed  # thread mode seals at capture
    runtime.close()


def test_an_unknown_snapshot_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="snapshot_mode"):
        _runtime("spawn")


def test_roll_seals_one_generation_a_day() -> None:
    index = DedupeIndex()
    assert not index.roll(5)  # nothing yet: the day starts
    index.add("a", "x", b"1")
    assert not index.roll(DAY_NS - 1)  # same UTC day
    index.add("a", "y", b"2")
    assert index.roll(DAY_NS + 10)  # the day is over: sealed as one generation
    assert len(index.sealed) == 1 and index.sealed[0].sealed_at == DAY_NS + 10
    index.add("a", "z", b"3")
    assert not index.roll(DAY_NS + 20)
    assert [index.get("a", k) for k in "xyz"] == [b"1", b"2", b"3"]
