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
