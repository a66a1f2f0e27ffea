"""The journal's `on_events` hand-over (the lifecycle log's): each batch once it is durable,
numbered from its first seq, on the writer thread; a failing hook never stops the journal."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.domain.events import Event, OrderFilled
from mcp_trading.kernel.journal import GroupCommitJournal

T0 = 1_767_225_600_000_000_000


def _fill(n: int) -> OrderFilled:
    return OrderFilled(f"o-{n}", Decimal(1), Decimal(100), Decimal(0), T0 + n)


def test_each_durable_batch_is_handed_on_once_in_order_from_the_writer_thread() -> None:
    store = MemoryJournalStore()
    journal = GroupCommitJournal(store)
    seen: list[tuple[int, list[Event], int, bool]] = []

    def on_events(first: int, batch: list[Event]) -> None:
        durable = store.last_seq() >= first + len(batch) - 1
        seen.append((first, list(batch), threading.get_ident(), durable))

    journal.on_events = on_events
    for seq in range(1, 51):
        journal.append(seq, _fill(seq))
    journal.flush(5.0)
    journal.close()
    events = [e for _, batch, _, _ in seen for e in batch]
    assert events == [_fill(n) for n in range(1, 51)]
    firsts = [first for first, _, _, _ in seen]
    sizes = [len(batch) for _, batch, _, _ in seen]
    assert firsts == [1 + sum(sizes[:i]) for i in range(len(sizes))]
    assert all(durable for *_, durable in seen)  # only what is durable is handed on
    assert {ident for _, _, ident, _ in seen} != {threading.get_ident()}  # not the caller's


def test_a_failing_hook_is_logged_and_the_journal_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    journal = GroupCommitJournal(MemoryJournalStore())

    def broken(first: int, batch: list[Event]) -> None:
        raise RuntimeError("log sink broke")

    journal.on_events = broken
    journal.append(1, _fill(1))
    assert journal.flush(5.0) == 1
    journal.append(2, _fill(2))
    assert journal.flush(5.0) == 2
    assert journal.error is None
    journal.close()
    assert "on_events failed" in caplog.text
