"""The journal's retry mode: a store outage delays acknowledgements, and loses or repeats nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import pairwise

import pytest

from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.domain.events import Event, OrderFilled
from mcp_trading.kernel import codec
from mcp_trading.kernel.journal import GroupCommitJournal, JournalError
from mcp_trading.kernel.ports import JournalRecord, Snapshot

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns


class FlakyStore(MemoryJournalStore):
    """An in-memory store that fails on demand, like a database that went away.

    append raises while `up` is clear and for the next `append_failures` calls; with
    `lost_ack` a failing append commits first (the acknowledgement is what gets lost).
    last_seq raises for the next `last_seq_failures` calls.
    """

    def __init__(self) -> None:
        super().__init__()
        self.up = threading.Event()
        self.up.set()
        self.append_failures = 0
        self.last_seq_failures = 0
        self.lost_ack = False
        self.append_calls: list[tuple[float, list[int]]] = []  # (monotonic time, seqs)
        self.last_seq_calls = 0

    def append(self, records: Iterable[JournalRecord]) -> None:
        batch = list(records)
        self.append_calls.append((time.monotonic(), [r.seq for r in batch]))
        if self.up.is_set() and self.append_failures == 0:
            super().append(batch)
            return
        self.append_failures = max(0, self.append_failures - 1)
        if self.lost_ack:
            super().append(batch)
        raise ConnectionError(
            "connection to postgresql://trader:s3cret@db:5432/trading lost\nDETAIL: restart")

    def last_seq(self) -> int:
        self.last_seq_calls += 1
        if self.last_seq_failures:
            self.last_seq_failures -= 1
            raise OSError("connection refused")
        return super().last_seq()


def fill(seq: int) -> Event:
    return OrderFilled("o-1", Decimal(1), Decimal("100.01"), Decimal(0), T0 + seq)


def append(journal: GroupCommitJournal, first: int, last: int) -> None:
    for seq in range(first, last + 1):
        journal.append(seq, fill(seq))


def stored(store: MemoryJournalStore) -> list[tuple[int, Event]]:
    return list(codec.events(store.read()))


def expected(last: int) -> list[tuple[int, Event]]:
    return [(seq, fill(seq)) for seq in range(1, last + 1)]


def assert_each_batch_sent_once(store: FlakyStore) -> None:
    sent = [seq for _, seqs in store.append_calls for seq in seqs]
    assert sent == sorted(set(sent))


def eventually(predicate: Callable[[], object], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def journals() -> Iterator[list[GroupCommitJournal]]:
    """Journals the test opened; closed at the end (quickly, should one still be failing)."""
    opened: list[GroupCommitJournal] = []
    yield opened
    for journal in opened:
        journal.close(timeout=0.5)


@pytest.fixture
def open_journal(store: FlakyStore, journals: list[GroupCommitJournal]
                 ) -> Callable[..., GroupCommitJournal]:
    def open_(retry_interval_s: float | None = 0.001,
              retry_max_interval_s: float = 0.004) -> GroupCommitJournal:
        journal = GroupCommitJournal(store, retry_interval_s=retry_interval_s,
                                     retry_max_interval_s=retry_max_interval_s)
        journals.append(journal)
        return journal
    return open_


def test_append_errors_are_retried_until_the_batch_commits(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.append_failures = 3

    append(journal, 1, 5)

    assert journal.flush(timeout=2) == 5
    assert stored(store) == expected(5)
    assert journal.error is None and journal.failing is None
    failed_batch = store.append_calls[0][1]
    assert [seqs for _, seqs in store.append_calls[:4]] == [failed_batch] * 4  # the same batch


def test_waiters_stay_pending_during_an_outage_and_resolve_after_it(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.up.clear()

    async def scenario() -> None:
        append(journal, 1, 3)
        waiter = journal.durable(3)
        await asyncio.to_thread(eventually, lambda: journal.failing is not None)
        assert isinstance(journal.failing, ConnectionError)
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(journal.wait_durable, 3, 0.05)
        append(journal, 4, 6)  # the queue grows behind the stuck batch
        assert not waiter.done()
        assert journal.error is None and journal.durable_seq == 0

        store.up.set()

        assert await asyncio.wait_for(waiter, 2) >= 3
        assert await asyncio.to_thread(journal.wait_durable, 6, 2) == 6

    asyncio.run(scenario())

    assert journal.failing is None and journal.error is None
    assert stored(store) == expected(6)


def test_a_lost_acknowledgement_is_not_written_twice(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.append_failures, store.lost_ack = 1, True

    append(journal, 1, 3)
    assert journal.flush(timeout=2) == 3
    append(journal, 4, 6)
    assert journal.flush(timeout=2) == 6

    assert stored(store) == expected(6)  # no duplicate, no gap
    assert journal.error is None and journal.failing is None
    assert_each_batch_sent_once(store)  # the lost one was seen as committed, not re-sent


def test_a_lost_acknowledgement_is_found_once_last_seq_answers_again(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.append_failures, store.lost_ack = 1, True
    calls_before = store.last_seq_calls
    store.last_seq_failures = 4

    append(journal, 1, 3)

    assert journal.flush(timeout=2) == 3
    assert store.last_seq_calls - calls_before == 5  # four errors, then the answer
    assert_each_batch_sent_once(store)
    assert stored(store) == expected(3)


def test_last_seq_errors_during_an_outage_keep_the_writer_waiting(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.up.clear()
    store.last_seq_failures = 1_000_000

    append(journal, 1, 2)
    eventually(lambda: store.last_seq_calls > 3)
    assert isinstance(journal.failing, OSError)  # the newest error is reported
    assert journal.durable_seq == 0 and journal.error is None

    store.last_seq_failures = 0
    store.up.set()

    assert journal.flush(timeout=2) == 2
    assert journal.failing is None
    assert stored(store) == expected(2)


def test_backoff_doubles_up_to_the_maximum(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal(retry_interval_s=0.01, retry_max_interval_s=0.02)
    store.append_failures = 5

    append(journal, 1, 1)
    journal.flush(timeout=2)

    times = [t for t, _ in store.append_calls]
    gaps = [b - a for a, b in pairwise(times)]
    assert len(gaps) == 5
    for gap, least in zip(gaps, [0.01, 0.02, 0.02, 0.02, 0.02], strict=True):
        assert gap >= least - 0.002
    assert max(gaps) < 0.1  # capped: uncapped, the last wait alone would be 0.16 s


def test_one_warning_per_outage_without_credentials(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_trading.kernel.journal")
    journal = open_journal()

    for outage, last in ((1, 2), (2, 4)):
        store.append_failures = 4
        append(journal, last - 1, last)
        assert journal.flush(timeout=2) == last
        warnings = [r for r in caplog.records
                    if r.name == "mcp_trading.kernel.journal" and r.levelno == logging.WARNING]
        assert len(warnings) == outage

    assert "ConnectionError" in caplog.text
    assert "s3cret" not in caplog.text and "DETAIL" not in caplog.text
    assert "trader:***@db" in caplog.text
    assert "journal store back" in caplog.text


def test_close_during_an_outage_gives_up_after_the_timeout(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.up.clear()

    async def scenario() -> None:
        append(journal, 1, 2)
        waiter = journal.durable(2)
        started = time.monotonic()
        await asyncio.to_thread(journal.close, 0.1)
        assert time.monotonic() - started < 2
        with pytest.raises(JournalError):
            await asyncio.wait_for(waiter, 1)

    asyncio.run(scenario())

    assert isinstance(journal.error, ConnectionError)  # failed for good, saying why
    assert journal.failing is None
    with pytest.raises(JournalError):
        journal.wait_durable(2, timeout=0)
    with pytest.raises(RuntimeError, match="closed"):
        store.last_seq()


def test_a_snapshot_asked_for_during_an_outage_is_saved_after_it(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    store.up.clear()
    append(journal, 1, 3)
    eventually(lambda: journal.failing is not None)

    journal.save_snapshot(Snapshot(3, b"state at 3"))
    time.sleep(0.02)
    assert store.latest_snapshot() is None  # never ahead of the journal

    store.up.set()

    assert journal.flush(timeout=2) == 3
    eventually(lambda: store.latest_snapshot() == Snapshot(3, b"state at 3"))
    assert stored(store) == expected(3)


def test_a_seq_conflict_fails_closed_even_in_retry_mode(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    MemoryJournalStore.append(store, [codec.record(1, fill(1))])  # another writer got there first

    append(journal, 1, 1)

    with pytest.raises(JournalError, match="not greater than"):
        journal.wait_durable(1, timeout=2)
    assert isinstance(journal.error, ValueError)
    assert journal.failing is None
    assert len(store.append_calls) == 1  # no retry: it could never succeed


def test_fail_closed_mode_sets_error_and_rejects_waiters(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal(retry_interval_s=None)
    store.append_failures = 1

    async def scenario() -> None:
        append(journal, 1, 2)
        waiter = journal.durable(2)
        with pytest.raises(JournalError):
            await asyncio.wait_for(waiter, 2)
        with pytest.raises(JournalError):
            await journal.durable(3)  # later waits fail at once

    asyncio.run(scenario())

    assert isinstance(journal.error, ConnectionError)
    assert journal.failing is None
    with pytest.raises(JournalError):
        journal.wait_durable(2, timeout=1)
    assert len(store.append_calls) == 1 and stored(store) == []


def test_close_when_healthy_flushes_everything(
        store: FlakyStore, open_journal: Callable[..., GroupCommitJournal]) -> None:
    journal = open_journal()
    append(journal, 1, 50)

    journal.close(timeout=2)

    assert journal.error is None
    assert store.append_calls[-1][1] == [50]  # segments end at their last seq
    assert_each_batch_sent_once(store)
    with pytest.raises(RuntimeError, match="closed"):
        store.last_seq()


@pytest.mark.parametrize(("interval", "maximum"), [(0.0, 5.0), (-1.0, 5.0), (6.0, 5.0)])
def test_bad_retry_intervals_are_refused(interval: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="retry_interval_s"):
        GroupCommitJournal(MemoryJournalStore(), retry_interval_s=interval,
                           retry_max_interval_s=maximum)
