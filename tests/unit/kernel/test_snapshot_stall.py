"""No stalls: a snapshot of a big state leaves the event loop running; the dedupe generations.

The bound on loop lag is generous (the machine is shared and CI is noisy): the point is that
the old synchronous snapshot of this state blocked for hundreds of ms, growing with the state.
Figures belong to benchmarks/soak.py, not to this test.
"""

from __future__ import annotations

import asyncio

from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel import snapshot
from mcp_trading.kernel.dedupe import DAY_NS, DedupeIndex, pack, request_digest
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.runtime import KernelRuntime, recover

from ..conftest import instruments

ENTRIES = 300_000
WORKING = 2_000


def _big_runtime() -> KernelRuntime:
    runtime = recover(MemoryJournalStore(), instruments=instruments(), clock=ManualClock(),
                      calendar=AlwaysOpen(), config=KernelConfig(id_base=1), snapshot_every=1)
    kernel = runtime.kernel
    for _ in range(WORKING):
        kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="buy", qty=1,
                                                  type="limit", limit_price="90.00"))
    request = OrderRequest.parse(symbol="AAPL", side="buy", qty=1)
    digest = request_digest(request)
    for i in range(ENTRIES):
        kernel.state.dedupe.add("paper", f"soak-{i:09d}", pack(f"{i:08x}-0000-0000-0000-{i:012x}",
                                                               digest))
    return runtime


def test_a_snapshot_of_a_big_state_does_not_stall_the_loop() -> None:
    runtime = _big_runtime()
    lags: list[float] = []

    async def main() -> bool:
        loop = asyncio.get_running_loop()
        done = False

        async def probe() -> None:
            while not done:
                start = loop.time()
                await asyncio.sleep(0.005)
                lags.append(loop.time() - start - 0.005)

        task = asyncio.create_task(probe())
        await asyncio.sleep(0.05)
        took = await runtime.snapshot_off_loop()
        done = True
        await task
        return took

    assert asyncio.run(main())
    runtime.journal.flush()
    assert max(lags) < 0.25, f"loop lag {max(lags) * 1000:.0f} ms during the snapshot"
    saved = runtime.journal.store.latest_snapshot()
    assert saved is not None
    loaded = snapshot.load(saved, instruments(), runtime.kernel.config.slippage)
    assert len(loaded.dedupe) == ENTRIES and len(loaded.orders) == WORKING
    runtime.close()


def test_sealed_generations_merge_per_day_and_lookups_see_every_generation() -> None:
    index = DedupeIndex()
    index.add("a", "x", b"1")
    first = index.seal(10)
    index.add("a", "y", b"2")
    index.add("b", "x", b"3")
    second = index.seal(20)
    assert len(second) == 2 and first[0] is second[0]
    index.add("a", "z", b"4")  # the current generation, after the seal
    merged = DedupeIndex.compact(second)
    assert len(merged) == 1 and index.swap(second, merged)
    assert [index.get("a", k) for k in "xyz"] == [b"1", b"2", b"4"]
    assert index.get("b", "x") == b"3" and index.get("b", "y") is None
    assert len(index) == 4


def test_entries_older_than_the_window_are_archived_behind_a_filter() -> None:
    index = DedupeIndex()
    for i in range(1_000):
        index.add("a", f"old-{i}", b"e")
    index.seal(1 * DAY_NS)
    index.add("a", "new", b"n")
    index.seal(3 * DAY_NS)
    bloom = DedupeIndex.bloom_of([g for g in index.sealed if g.sealed_at < 2 * DAY_NS])
    gone = index.expire(2 * DAY_NS)
    index.archived.append(bloom)
    assert sum(len(d) for g in gone for d in g.entries.values()) == 1_000
    assert index.get("a", "old-5") is None and index.get("a", "new") == b"n"
    assert all(index.maybe_archived("a", f"old-{i}") for i in range(1_000))
    false_positives = sum(index.maybe_archived("a", f"never-{i}") for i in range(10_000))
    assert false_positives < 300  # ~1 % by construction
