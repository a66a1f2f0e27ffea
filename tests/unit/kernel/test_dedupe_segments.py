"""Duplicate-check segments: a sealed generation is stored once, later snapshots only name
it, and a snapshot's size does not grow with the day's closed orders."""

from __future__ import annotations

import asyncio

import pytest

from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel import dedupe, forked, snapshot
from mcp_trading.kernel.dedupe import DAY_NS, DedupeIndex, Generation, pack, request_digest
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.ports import Snapshot
from mcp_trading.kernel.runtime import KernelRuntime, recover

from ..conftest import instruments

MODES = [pytest.param("fork", marks=pytest.mark.skipif(not forked.CAN_FORK, reason="no fork()")),
         "thread"]
_DIGEST = request_digest(OrderRequest.parse(symbol="AAPL", side="buy", qty=1))


class _Saved(MemoryJournalStore):
    """A memory store that keeps every snapshot it was asked to save, and can fail once."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Snapshot] = []
        self.fail_next = False

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self.asked.append(snapshot)
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        super().save_snapshot(snapshot)


def _runtime(mode: str) -> tuple[KernelRuntime, _Saved]:
    store = _Saved()
    runtime = recover(store, instruments=instruments(), clock=ManualClock(),
                      calendar=AlwaysOpen(), config=KernelConfig(id_base=1), snapshot_every=1,
                      snapshot_mode=mode)
    return runtime, store


def _close(runtime: KernelRuntime, start: int, n: int) -> None:
    for i in range(start, start + n):
        runtime.kernel.state.dedupe.add("paper", f"closed-{i}", pack(f"id-{i}", _DIGEST))


def _snapshot(runtime: KernelRuntime, i: int) -> Snapshot:
    runtime.kernel.submit("paper", OrderRequest.parse(
        symbol="AAPL", side="buy", qty=1, type="limit", limit_price="90.00",
        client_order_id=f"w-{i}"))
    assert asyncio.run(runtime.snapshot_off_loop())
    runtime.journal.flush()
    store = runtime.journal.store
    assert isinstance(store, _Saved)
    return store.asked[-1]


@pytest.mark.parametrize("mode", MODES)
def test_a_sealed_generation_is_written_once_and_later_snapshots_only_name_it(mode: str) -> None:
    runtime, store = _runtime(mode)
    _close(runtime, 0, 5_000)
    runtime.kernel.state.dedupe.seal(1)  # what roll does at SEAL_AT (thread mode: capture)
    first = _snapshot(runtime, 0)
    assert len(first.segments) == 1 and first.refs == (first.segments[0][0],)
    sizes = []
    for i in range(1, 4):
        later = _snapshot(runtime, i)
        assert later.segments == () and later.refs == first.refs  # named, not re-written
        sizes.append(len(later.payload))
    assert max(sizes) < len(first.segments[0][1]) / 10  # the entries are not in the payload
    saved = store.latest_snapshot()
    assert saved is not None
    loaded = snapshot.load(saved, instruments(), runtime.kernel.config.slippage)
    assert loaded.dedupe.as_dict() == runtime.kernel.state.dedupe.as_dict()
    assert len(loaded.dedupe) == 5_000
    runtime.close()


@pytest.mark.parametrize("mode", MODES)
def test_a_segment_whose_snapshot_failed_to_save_is_carried_again(mode: str) -> None:
    runtime, store = _runtime(mode)
    _close(runtime, 0, 100)
    runtime.kernel.state.dedupe.seal(1)
    store.fail_next = True
    failed = _snapshot(runtime, 0)
    assert store.latest_snapshot() is None and len(failed.segments) == 1
    again = _snapshot(runtime, 1)
    assert again.segments == failed.segments  # not marked stored: carried, and saved now
    saved = store.latest_snapshot()
    assert saved is not None and len(snapshot.load(
        saved, instruments(), runtime.kernel.config.slippage).dedupe) == 100
    runtime.close()


def test_a_snapshot_without_its_segment_says_so_on_load() -> None:
    runtime, _ = _runtime("thread")
    _close(runtime, 0, 10)
    first = _snapshot(runtime, 0)
    with pytest.raises(ValueError, match="does not hold; replay the journal"):
        snapshot.load(first._replace(segments=()), instruments(), runtime.kernel.config.slippage)
    runtime.close()


def test_roll_seals_at_the_size_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "SEAL_AT", 3)
    index = DedupeIndex()
    assert not index.roll(5)
    for key in "ab":
        index.add("a", key, b"e")
    assert not index.roll(6)  # two entries, the same day
    index.add("a", "c", b"e")
    assert index.roll(7) and len(index.sealed) == 1 and not index.current
    index.add("a", "d", b"e")
    assert not index.roll(8) and index.current_size == 1


def test_compact_merges_small_generations_and_leaves_full_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "SEAL_AT", 4)

    def gen(at: int, n: int) -> Generation:
        return Generation(at, {"a": {f"{at}-{i}": b"e" for i in range(n)}})

    full = gen(1, 4)
    small = [gen(2, 1), gen(3, 2), gen(4, 1), gen(5, 1)]
    other_day = gen(DAY_NS + 1, 1)
    merged = DedupeIndex.compact([full, *small, other_day])
    assert merged[0] is full  # its stored segment stays valid
    assert [len(g) for g in merged] == [4, 4, 1, 1]  # 1+2+1 reach the bound; the next waits
    assert merged[-1] is other_day
    assert {k for g in merged for k in g.entries["a"]} == {
        k for g in [full, *small, other_day] for k in g.entries["a"]}
