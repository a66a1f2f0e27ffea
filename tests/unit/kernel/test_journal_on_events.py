"""The journal's `on_durable` hand-over (the lifecycle log's): each batch's encoded record
once it is durable, with its first seq, on the writer thread; a failing hook never stops
the journal."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.domain.events import OrderFilled
from mcp_trading.kernel import codec
from mcp_trading.kernel.journal import GroupCommitJournal
from mcp_trading.kernel.ports import JournalRecord

T0 = 1_767_225_600_000_000_000


def _fill(n: int) -> OrderFilled:
    return OrderFilled(f"o-{n}", Decimal(1), Decimal(100), Decimal(0), T0 + n)


def test_each_durable_batch_is_handed_on_once_in_order_from_the_writer_thread() -> None:
    store = MemoryJournalStore()
    journal = GroupCommitJournal(store)
    seen: list[tuple[int, JournalRecord, int, bool]] = []

    def on_durable(first: int, record: JournalRecord) -> None:
        seen.append((first, record, threading.get_ident(), store.last_seq() >= record.seq))

    journal.on_durable = on_durable
    for seq in range(1, 51):
        journal.append(seq, _fill(seq))
    journal.flush(5.0)
    journal.close()
    decoded = [pair for _, record, _, _ in seen for pair in codec.events([record])]
    assert decoded == [(n, _fill(n)) for n in range(1, 51)]
    assert [first for first, *_ in seen] == [decoded_first for decoded_first, _ in
                                               (next(codec.events([r])) for _, r, _, _ in seen)]
    assert all(durable for *_, durable in seen)  # only what is durable is handed on
    assert {ident for _, _, ident, _ in seen} != {threading.get_ident()}  # not the caller's


def test_a_failing_hook_is_logged_and_the_journal_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    journal = GroupCommitJournal(MemoryJournalStore())

    def broken(first: int, record: JournalRecord) -> None:
        raise RuntimeError("log sink broke")

    journal.on_durable = broken
    journal.append(1, _fill(1))
    assert journal.flush(5.0) == 1
    journal.append(2, _fill(2))
    assert journal.flush(5.0) == 2
    assert journal.error is None
    journal.close()
    assert "on_durable failed" in caplog.text
