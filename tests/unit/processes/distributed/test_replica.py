"""A replica folds the engine's published records into the engine's state, whatever the bus
does: duplicates (redelivery), a lost entry (filled from the store), a late start."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tests.unit.conftest import instruments
from tests.unit.kernel.test_replay import busy_day, state_view

from mcp_trading.adapters.bus import InMemoryBus
from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.domain.market import Quote
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel import codec
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.processes.distributed.publisher import EventPublisher
from mcp_trading.processes.distributed.replica import (
    CONTROL_KINDS,
    ReadOnlyReplicaError,
    ReplicaRuntime,
    apply_quote,
    open_replica,
)
from mcp_trading.processes.distributed.wire import decode_record, encode_record


def _records(events: list, per: int = 7) -> list[JournalRecord]:
    """The engine's journal records: group commits of `per` events."""
    return [codec.segment(events[i:i + per]) for i in range(0, len(events), per)]


def _replica(store: MemoryJournalStore) -> ReplicaRuntime:
    return open_replica(store, instruments=instruments(), clock=_Clock(), calendar=AlwaysOpen(),
                        config=KernelConfig(id_base=7))


class _Clock:
    def now_ns(self) -> int:
        return 0


@pytest.fixture
def engine(make_kernel):  # type: ignore[no-untyped-def]
    h = make_kernel(config=KernelConfig(id_base=7))
    busy_day(h)
    return h


def test_duplicates_and_a_lost_entry_still_give_the_engines_state(engine) -> None:  # type: ignore[no-untyped-def]
    records = _records(engine.events)
    store = MemoryJournalStore()
    store.append(records[:2])  # the replica starts from what was journaled then
    replica = _replica(store)
    store.append(records[2:])
    delivered = records[2:5] + records[3:5] + records[6:]  # redelivery, and records[5] lost
    gap = replica.apply_records(delivered)
    assert gap == records[4].seq  # it stops at the gap instead of skipping events
    asyncio.run(replica.fill_from_store())
    assert replica.apply_records(delivered) is None  # everything already held: no-op
    assert state_view(replica.kernel.state, marked=False) == state_view(engine.kernel.state,
                                                                        marked=False)


def test_a_replica_refuses_commands(engine) -> None:  # type: ignore[no-untyped-def]
    store = MemoryJournalStore()
    store.append(_records(engine.events))
    replica = _replica(store)
    with pytest.raises(ReadOnlyReplicaError):
        replica.kernel.set_maintenance(True, reason="x", actor="t")


def test_quotes_re_mark_positions_without_matching(engine) -> None:  # type: ignore[no-untyped-def]
    store = MemoryJournalStore()
    store.append(_records(engine.events))
    replica = _replica(store)
    paper = replica.kernel.state.accounts["paper"]
    held = paper.positions["AAPL"].qty
    assert held != 0
    seq = replica.seq
    apply_quote(replica.kernel.state, Quote("AAPL", Decimal("150.00"), Decimal("150.02"),
                                            Decimal(100), Decimal(100), Decimal("150.01"), 1))
    assert paper.positions["AAPL"].mark == Decimal("150.01")
    assert paper.positions["AAPL"].market_value == held * Decimal("150.01")
    assert replica.seq == seq  # marking is not an event, and nothing matched


def test_following_the_bus_converges_and_serves_read_your_writes(engine) -> None:  # type: ignore[no-untyped-def]
    records = _records(engine.events)
    store = MemoryJournalStore()
    store.append(records[:1])
    replica = _replica(store)
    bus = InMemoryBus()

    async def body() -> None:
        follower = asyncio.create_task(replica.follow(bus, group="portfolio",
                                                      consumer="portfolio"))
        await asyncio.sleep(0.05)  # the group exists before the engine publishes
        publisher = EventPublisher(bus)
        store.append(records[1:])
        for record in records[1:]:
            publisher.submit(record)
        assert await replica.caught_up(records[-1].seq, timeout=5)
        publisher.close()
        follower.cancel()

    asyncio.run(body())
    assert state_view(replica.kernel.state, marked=False) == state_view(engine.kernel.state,
                                                                        marked=False)


def test_a_record_survives_the_wire_unchanged(engine) -> None:  # type: ignore[no-untyped-def]
    record = _records(engine.events)[0]
    assert decode_record(encode_record(record)) == record


def test_a_control_plane_replica_follows_states_and_limits_and_skips_orders(
        engine) -> None:  # type: ignore[no-untyped-def]
    records = _records(engine.events)
    store = MemoryJournalStore()
    store.append(records[:1])  # the replica starts from the first commit
    replica = open_replica(store, instruments=instruments(), clock=_Clock(),
                           calendar=AlwaysOpen(), config=KernelConfig(id_base=7),
                           kinds=CONTROL_KINDS)
    held = dict(replica.kernel.state.orders)
    engine.kernel.halt(account_id="paper", reason="drawdown review", actor="ops")
    engine.kernel.set_maintenance(True, reason="upgrade", actor="ops")
    records = _records(engine.events)
    store.append(records[1:])
    assert replica.apply_records(records[1:]) is None
    state, truth = replica.kernel.state, engine.kernel.state
    assert state.seq == truth.seq  # every sequence number seen, so read-your-writes works
    assert state.orders == held  # order and fill events were skipped
    assert state.maintenance == truth.maintenance == "upgrade"
    assert {a: (x.state, x.state_reason, x.limits) for a, x in state.accounts.items()} == {
        a: (x.state, x.state_reason, x.limits) for a, x in truth.accounts.items()}
    assert state.global_limits == truth.global_limits
    assert state.session == truth.session
