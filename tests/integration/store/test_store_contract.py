"""The JournalStore contract, run identically on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.adapters.store import (
    MemoryJournalStore,
    SchemaOutOfDateError,
    SqlJournalStore,
    open_store,
)
from mcp_trading.domain.events import (
    AccountOpened,
    Event,
    LimitsSet,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    TradingStateChanged,
)
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord, JournalStore, Snapshot

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns


def sample_events() -> list[Event]:
    """One of most event shapes: Decimals, enums, optionals, dicts."""
    return [
        AccountOpened("acc-1", "USD", Decimal("100000.00"), False, T0),
        OrderAccepted(
            "o-1", "acc-1", OrderRequest(
                symbol="AAPL", qty=Decimal(10), side=OrderSide.BUY, type=OrderType.LIMIT,
                time_in_force=TimeInForce.DAY, limit_price=Decimal("100.25"),
                client_order_id="client-1"),
            Decimal("100.20"), Decimal("1002.50"), True, T0 + 1, None, "cli", T0 + 1),
        OrderFilled("o-1", Decimal(4), Decimal("100.25"), Decimal("0.004"), T0 + 2),
        OrderCanceled("o-1", "user request", T0 + 3),
        OrderRejected(
            "o-2", "acc-1", OrderRequest(
                symbol="MSFT", qty=Decimal("0.5"), side=OrderSide.SELL, type=OrderType.MARKET,
                time_in_force=TimeInForce.GTC),
            "RISK", "no short selling", None, T0 + 4),
        TradingStateChanged("acc-1", TradingState.HALTED_NEW_ORDERS, "drill", "operator",
                            T0 + 5),
        LimitsSet(None, {"max_order_qty": "100", "max_notional": None}, "admin", T0 + 6),
    ]


def records(first: int, count: int, *, step: int = 1) -> list[JournalRecord]:
    fill = OrderFilled("o-1", Decimal(1), Decimal("100.01"), Decimal(0), T0)
    return [codec.record(first + i * step, fill._replace(ts=T0 + first + i * step))
            for i in range(count)]


def seqs(store: JournalStore, after_seq: int = 0, limit: int | None = None) -> list[int]:
    return [r.seq for r in store.read(after_seq, limit)]


def kept_snapshots(store: JournalStore) -> list[int]:
    assert isinstance(store, (MemoryJournalStore, SqlJournalStore))
    return store.snapshot_seqs()


def test_append_then_read_returns_the_same_events(store: JournalStore) -> None:
    events = sample_events()
    store.append([codec.record(seq, event) for seq, event in enumerate(events, start=1)])

    read = list(store.read())

    assert [r.seq for r in read] == list(range(1, len(events) + 1))
    assert [codec.decode(r.kind, r.payload) for r in read] == events
    assert all(isinstance(r.payload, bytes) for r in read)
    assert [r.ts for r in read] == [e.ts for e in events]
    assert store.last_seq() == len(events)


def test_decoded_events_keep_their_decimal_and_enum_types(store: JournalStore) -> None:
    store.append([codec.record(1, sample_events()[1])])

    (record,) = store.read()
    event = codec.decode(record.kind, record.payload)

    assert isinstance(event, OrderAccepted)
    assert event.request.limit_price == Decimal("100.25")
    assert isinstance(event.request.qty, Decimal)
    assert event.request.side is OrderSide.BUY and event.request.type is OrderType.LIMIT


def test_a_new_store_is_empty(store: JournalStore) -> None:
    assert store.last_seq() == 0
    assert list(store.read()) == []
    assert store.latest_snapshot() is None


def test_read_after_a_seq_returns_only_later_records_in_order(store: JournalStore) -> None:
    store.append(records(1, 5))
    store.append(records(6, 5))
    store.append(records(20, 3, step=10))  # gaps are allowed, order is what counts

    assert seqs(store) == [*range(1, 11), 20, 30, 40]
    assert seqs(store, after_seq=8) == [9, 10, 20, 30, 40]
    assert seqs(store, after_seq=15) == [20, 30, 40]
    assert seqs(store, after_seq=40) == []


def test_read_with_a_limit_pages_through_the_journal(store: JournalStore) -> None:
    store.append(records(1, 12))

    pages, after = [], 0
    while page := seqs(store, after, limit=5):
        pages.append(page)
        after = page[-1]

    assert pages == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    assert seqs(store, limit=0) == []


def test_read_streams_more_records_than_one_page(store: JournalStore) -> None:
    total = 12_345  # more than two internal read pages
    for first in range(1, total + 1, 1_000):
        store.append(records(first, min(1_000, total - first + 1)))

    assert seqs(store) == list(range(1, total + 1))
    assert seqs(store, after_seq=100, limit=7_000) == list(range(101, 7_101))


@pytest.mark.parametrize("bad_batch", [
    pytest.param(lambda: records(5, 2), id="seq-equal-to-last"),
    pytest.param(lambda: records(2, 3), id="seq-below-last"),
    pytest.param(lambda: [*records(6, 2), *records(7, 1)], id="duplicate-within-batch"),
    pytest.param(lambda: [*records(9, 1), *records(8, 1)], id="decreasing-within-batch"),
    pytest.param(lambda: [*records(6, 3), *records(1, 1)], id="good-prefix-then-old-seq"),
])
def test_non_increasing_seq_is_rejected_and_nothing_is_written(
        store: JournalStore, bad_batch: object) -> None:
    store.append(records(1, 5))
    assert callable(bad_batch)

    with pytest.raises(ValueError, match="not greater than"):
        store.append(bad_batch())

    assert store.last_seq() == 5
    assert seqs(store) == [1, 2, 3, 4, 5]
    store.append(records(6, 2))  # the store still takes a good batch afterwards
    assert seqs(store, after_seq=5) == [6, 7]


def test_an_empty_batch_is_a_no_op(store: JournalStore) -> None:
    store.append([])
    store.append(iter([]))
    assert store.last_seq() == 0


def test_append_accepts_any_iterable(store: JournalStore) -> None:
    store.append(r for r in records(1, 3))
    assert seqs(store) == [1, 2, 3]


def test_latest_snapshot_is_the_newest_and_only_a_few_are_kept(store: JournalStore) -> None:
    store.append(records(1, 50))

    for seq in (10, 20, 30, 40, 50):
        store.save_snapshot(Snapshot(seq, f"state@{seq}".encode()))

    assert store.latest_snapshot() == Snapshot(50, b"state@50")
    assert kept_snapshots(store) == [30, 40, 50]


def test_saving_a_snapshot_at_the_same_seq_replaces_it(store: JournalStore) -> None:
    store.append(records(1, 5))
    store.save_snapshot(Snapshot(5, b"first"))
    store.save_snapshot(Snapshot(5, b"second"))

    assert store.latest_snapshot() == Snapshot(5, b"second")
    assert kept_snapshots(store) == [5]


def test_an_older_snapshot_does_not_displace_the_latest(store: JournalStore) -> None:
    store.append(records(1, 5))
    store.save_snapshot(Snapshot(5, b"new"))
    store.save_snapshot(Snapshot(3, b"old"))

    assert store.latest_snapshot() == Snapshot(5, b"new")


SEG_A, SEG_B = b"a" * 16, b"b" * 16


def _shape(snap: Snapshot | None) -> tuple[int, bytes, dict[bytes, bytes], set[bytes]] | None:
    if snap is None:
        return None
    return snap.seq, snap.payload, dict(snap.segments), set(snap.refs)


def test_a_snapshots_segments_are_stored_once_and_come_back_with_it(store: JournalStore) -> None:
    store.append(records(1, 50))
    store.save_snapshot(Snapshot(10, b"s10", ((SEG_A, b"seg-a"),), (SEG_A,)))
    store.save_snapshot(Snapshot(20, b"s20", ((SEG_B, b"seg-b"),), (SEG_A, SEG_B)))

    assert _shape(store.latest_snapshot()) == (
        20, b"s20", {SEG_A: b"seg-a", SEG_B: b"seg-b"}, {SEG_A, SEG_B})


def test_a_snapshot_naming_a_segment_the_store_lacks_is_refused_whole(store: JournalStore) -> None:
    store.append(records(1, 50))
    store.save_snapshot(Snapshot(10, b"s10"))

    with pytest.raises(ValueError, match="does not hold"):
        store.save_snapshot(Snapshot(20, b"s20", ((SEG_A, b"seg-a"),), (SEG_A, SEG_B)))

    assert store.latest_snapshot() == Snapshot(10, b"s10")
    with pytest.raises(ValueError, match="does not hold"):  # SEG_A was not kept either
        store.save_snapshot(Snapshot(30, b"s30", (), (SEG_A,)))


def test_segments_no_kept_snapshot_names_are_dropped(store: JournalStore) -> None:
    store.append(records(1, 60))
    store.save_snapshot(Snapshot(10, b"s10", ((SEG_A, b"seg-a"),), (SEG_A,)))
    for seq in (20, 30, 40):
        store.save_snapshot(Snapshot(seq, f"s{seq}".encode(), ((SEG_B, b"seg-b"),), (SEG_B,)))

    assert kept_snapshots(store) == [20, 30, 40]
    with pytest.raises(ValueError, match="does not hold"):  # pruned with the snapshot at 10
        store.save_snapshot(Snapshot(50, b"s50", (), (SEG_A,)))
    assert _shape(store.latest_snapshot()) == (40, b"s40", {SEG_B: b"seg-b"}, {SEG_B})


def test_a_snapshot_beyond_the_journal_is_refused(store: JournalStore) -> None:
    store.append(records(1, 5))

    with pytest.raises(ValueError, match="outside the journal"):
        store.save_snapshot(Snapshot(6, b"from the future"))

    assert store.latest_snapshot() is None


def test_a_closed_store_refuses_to_work(store: JournalStore) -> None:
    store.close()
    store.close()  # closing twice is harmless

    with pytest.raises(RuntimeError, match="closed"):
        store.append(records(1, 1))
    with pytest.raises(RuntimeError, match="closed"):
        store.last_seq()


# ---- durability: SQL backends only ---------------------------------------------------------

def test_records_and_last_seq_survive_close_and_reopen(sql_url: str) -> None:
    with SqlJournalStore(sql_url, migrate=True) as first:
        first.append(records(1, 1_000))
        first.append(records(1_001, 5))
        first.save_snapshot(Snapshot(1_000, b"state"))

    with SqlJournalStore(sql_url) as reopened:
        assert reopened.last_seq() == 1_005
        assert seqs(reopened, after_seq=998) == [999, 1_000, 1_001, 1_002, 1_003, 1_004, 1_005]
        assert reopened.latest_snapshot() == Snapshot(1_000, b"state")
        with pytest.raises(ValueError, match="not greater than"):
            reopened.append(records(1_005, 1))
        reopened.append(records(1_006, 1))
        assert reopened.last_seq() == 1_006


def test_a_second_writer_is_stopped_by_the_primary_key(sql_url: str) -> None:
    with SqlJournalStore(sql_url, migrate=True) as first, SqlJournalStore(sql_url) as second:
        first.append(records(1, 3))
        second.append(records(4, 1))  # first's cached last_seq (3) is now stale

        with pytest.raises(ValueError, match="nothing from this batch was written"):
            first.append(records(4, 2))

        assert seqs(first) == [1, 2, 3, 4]
        first.append(records(5, 1))  # it recovers, having re-read the real last seq
        assert first.last_seq() == 5


def test_opening_an_unmigrated_database_says_how_to_fix_it(sql_url: str) -> None:
    with pytest.raises(SchemaOutOfDateError, match="upgrade"):
        open_store(sql_url)


def test_readers_in_another_store_see_committed_records(sql_url: str) -> None:
    with SqlJournalStore(sql_url, migrate=True) as writer, SqlJournalStore(sql_url) as reader:
        writer.append(records(1, 3))
        assert reader.last_seq() == 3
        assert seqs(reader) == [1, 2, 3]


def test_memory_url_opens_the_in_memory_store() -> None:
    assert isinstance(open_store("memory://"), MemoryJournalStore)


def test_the_public_surface_is_pinned() -> None:
    from mcp_trading.adapters import store as package

    assert sorted(package.__all__) == [
        "BackgroundProjector", "MemoryJournalStore", "ProjectionError", "Projector", "SchemaOutOfDateError",
        "SqlJournalStore", "check_schema", "current_revision", "head_revision", "open_store",
        "upgrade",
    ]
