"""Flat memory: a closed order the kernel released keeps only its duplicate-check entry.

Measured with tracemalloc (what Python allocated and still holds), not RSS: the allocator's
free lists and arenas make RSS a poor per-object measure.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable

from mcp_trading.kernel import snapshot

from ..conftest import Harness

BOUND = 200  # bytes per closed order (issue 11)
N = 12_000


def _close_orders(h: Harness, start: int, n: int, *, coid: bool, release: bool = True) -> None:
    """n orders that close: market buys and sells that fill, limits that are canceled;
    released every 600 orders, as the platform does each second at 600 orders/s."""
    for i in range(start, start + n):
        if release and i % 600 == 0:
            _released(h)
        if i % 100 == 0:
            h.quote("100.00", "100.02", bid_size=1_000_000, ask_size=1_000_000)
        h.advance(0.002)
        fields = {"client_order_id": f"cl-{i:08d}"} if coid else {}
        kind = i % 3
        if kind == 0:
            h.buy(1, **fields)
        elif kind == 1:
            h.sell(1, **fields)
        else:
            order = h.buy(1, type="limit", limit_price="90.00", **fields)
            h.kernel.cancel(order.id)
    h.events.clear()  # the test journal keeps events; the real one writes them out


def _retained(work: Callable[[], object]) -> tuple[int, object]:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = work()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before, result
    finally:
        tracemalloc.stop()


def _released(h: Harness) -> int:
    return h.kernel.state.release(h.kernel.seq)


def test_a_released_order_with_a_client_order_id_keeps_under_200_bytes(h: Harness) -> None:
    _close_orders(h, 0, 2_000, coid=True)  # warm: positions, books, interned names
    _released(h)

    def close_and_release() -> int:
        before = len(h.kernel.state.dedupe)
        _close_orders(h, 2_000, N, coid=True)
        _released(h)
        return len(h.kernel.state.dedupe) - before

    retained, released = _retained(close_and_release)
    assert released == N
    state = h.kernel.state
    assert len(state.orders) == 0 and len(state.dedupe) == N + 2_000
    assert retained / N < BOUND, f"{retained / N:.0f} B per closed order"


def test_a_released_order_without_a_client_order_id_keeps_almost_nothing(h: Harness) -> None:
    _close_orders(h, 0, 2_000, coid=False)
    _released(h)

    def close_and_release() -> int:
        _close_orders(h, 2_000, N, coid=False)
        return _released(h)

    retained, _ = _retained(close_and_release)
    assert not h.kernel.state.orders and not h.kernel.state.dedupe
    assert retained / N < 16, f"{retained / N:.0f} B per closed order"


def test_the_recovered_state_is_as_small_as_the_live_one(h: Harness) -> None:
    _close_orders(h, 0, N, coid=True)
    _released(h)
    live = h.kernel.state
    payload = snapshot.dump(live)
    retained, loaded = _retained(lambda: snapshot.load(payload, live.instruments,
                                                       h.kernel.config.slippage))
    assert isinstance(loaded, type(live))
    assert loaded.dedupe.as_dict() == live.dedupe.as_dict() and loaded.orders.keys() == live.orders.keys()
    # the released entries came back sealed: the next snapshot stores them once, as a segment,
    # and a state recovered from that one references the stored segment without re-encoding
    again = snapshot.dump(loaded, now_ns=1)
    assert len(again.segments) == 1 and again.refs == (again.segments[0][0],)
    reloaded = snapshot.load(again, live.instruments, h.kernel.config.slippage)
    assert reloaded.dedupe.as_dict() == live.dedupe.as_dict()
    third = snapshot.dump(reloaded, now_ns=1)
    assert (third.payload, third.refs, third.segments) == (again.payload, again.refs, ())
    assert retained / N < BOUND, f"{retained / N:.0f} B per closed order after recovery"


def test_closed_orders_stay_until_the_projections_hold_them(h: Harness) -> None:
    h.quote()
    filled = h.buy(1, client_order_id="a")
    closed_at = h.kernel.seq
    working = h.buy(1, type="limit", limit_price="90.00", client_order_id="b")
    state = h.kernel.state
    assert state.release(closed_at - 1) == 0 and filled.id in state.orders
    assert state.release(closed_at) == 1
    assert set(state.orders) == {working.id}
    assert state.dedupe.get("paper", "a") is not None and "a" not in h.account.by_client_id


def test_the_periodic_freeze_does_not_make_dead_cycles_permanent() -> None:
    # the platform freezes what survived each half second (fewer objects to re-scan); garbage
    # cycles that have not been collected yet must not be frozen with them, or every
    # finished request's cycle (an HTTP client's connection graph) stays for good
    from mcp_trading.kernel.runtime import freeze_survivors

    class Node:
        other: object = None

    gc.collect()
    before = gc.get_freeze_count()
    try:
        alive, dead = Node(), Node()
        alive.other = alive  # a cycle still referenced
        dead.other = dead
        watch = weakref.ref(dead)
        del dead  # only the collector can free it now
        freeze_survivors()
        assert watch() is None, "a dead cycle was frozen"
        assert gc.get_freeze_count() > before  # what lives was frozen
        assert alive.other is alive
    finally:
        gc.unfreeze()
