"""The opt-in timing of the acknowledgement path (kernel/acktrace.py): what the soak reads."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.domain.events import OrderFilled
from mcp_trading.kernel.acktrace import AckTrace
from mcp_trading.kernel.journal import GroupCommitJournal

T0 = 1_700_000_000_000_000_000


def _fill(seq: int) -> OrderFilled:
    return OrderFilled("o-1", Decimal(1), Decimal("100.01"), Decimal(0), T0 + seq)


def test_a_traced_journal_times_every_batch_and_joins_requests_to_them() -> None:
    trace = AckTrace()
    journal = GroupCommitJournal(MemoryJournalStore(), trace=trace)

    async def acknowledge(seq: int) -> None:
        start = time.perf_counter()
        journal.append(seq, _fill(seq))
        decided = time.perf_counter()
        await journal.durable(seq)
        trace.request(start, seq, decided, time.perf_counter())

    async def main() -> None:
        for seq in range(1, 51):
            await acknowledge(seq)

    try:
        asyncio.run(main())
    finally:
        journal.close()
    summary = trace.summary()
    assert summary["requests"] == 50
    assert 1 <= summary["batches"] <= 50
    assert [b[1] for b in trace.batches] == sorted(b[1] for b in trace.batches)
    assert trace.batches[-1][1] == 50  # every seq was committed in some batch
    for stage in ("queued", "encode", "store", "notify", "durable_wait", "to_pickup", "total"):
        figures = summary["stages_ms"][stage]
        assert 0 <= figures["p50"] <= figures["max"], stage
    for _, _, appended, pickup, encoded, stored, committed in trace.batches:
        assert appended <= pickup <= encoded <= stored <= committed
    assert summary["stages_ms"]["resolve"]["max"] >= 0
    assert summary["slowest_0_1pct_mean_ms"]["total"] > 0


def test_the_slowest_acknowledgements_name_what_overlapped_them() -> None:
    # the soak reads this to tell a snapshot step from a collection or a slow commit
    trace = AckTrace()
    t = time.perf_counter()  # a request's answer is timed when it is recorded: now
    trace.mark("snapshot-save", t - 5.010, t - 5)
    trace.mark("gc1", t - 2.001, t - 2)
    trace.mark("snapshot-save", t - 0.045, t - 0.005)
    trace.request(t - 0.05, 0, t - 0.049, t - 0.0001)  # ~50 ms, behind that snapshot step
    for _ in range(20):
        now = time.perf_counter()
        trace.request(now - 0.0002, 0, now - 0.0001, now)
    summary = trace.summary()
    slowest = summary["slowest_acks"][0]
    assert 50 <= slowest["stages_ms"]["total"] < 100
    assert slowest["with"] == ["snapshot-save 40.0 ms"]
    assert len(summary["slowest_acks"]) == 15
    assert summary["marks_ms"]["snapshot-save"]["count"] == 2
    assert summary["marks_ms"]["snapshot-save"]["max"] == 40.0
    assert set(summary["marks_ms"]) == {"snapshot-save", "gc1"}


def test_an_untraced_journal_keeps_the_plain_append() -> None:
    journal = GroupCommitJournal(MemoryJournalStore())
    try:
        assert "append" not in vars(journal)  # no per-event cost when tracing is off
        assert journal.trace is None
    finally:
        journal.close()
    traced = GroupCommitJournal(MemoryJournalStore(), trace=AckTrace())
    try:
        assert "append" in vars(traced)
    finally:
        traced.close()
