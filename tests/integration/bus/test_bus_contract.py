"""The EventBus contract, run identically on the in-memory bus and on Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from mcp_trading.adapters.bus import BusEntry, BusError, EventBus, NoSuchGroupError
from mcp_trading.adapters.bus.contract import parse_id

EVENTS = "events"


def payloads(entries: list[BusEntry]) -> list[bytes]:
    return [e.payload for e in entries]


def batch(count: int, tag: str = "e") -> list[bytes]:
    return [f"{tag}{i}".encode() for i in range(count)]


def in_thread(call: Callable[[], list[BusEntry]]) -> tuple[threading.Thread, list[list[BusEntry]]]:
    result: list[list[BusEntry]] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


# -- publishing ---------------------------------------------------------------------------------

def test_publish_keeps_a_batch_in_order_with_increasing_ids(bus: EventBus) -> None:
    first = bus.publish(EVENTS, batch(5))
    second = bus.publish(EVENTS, [b"later", b""])
    bus.ensure_group(EVENTS, "orders")

    read = bus.read_group(EVENTS, "orders", "c1")

    assert payloads(read) == [*batch(5), b"later", b""]
    assert [e.id for e in read] == first + second
    assert [parse_id(i) for i in first + second] == sorted({parse_id(i) for i in first + second})
    assert all(e.key is None for e in read)


def test_publish_of_nothing_returns_no_ids(bus: EventBus) -> None:
    assert bus.publish(EVENTS, []) == []


def test_count_limits_a_read_and_the_rest_follows(bus: EventBus) -> None:
    bus.publish(EVENTS, batch(5))
    bus.ensure_group(EVENTS, "orders")

    first = bus.read_group(EVENTS, "orders", "c1", count=3)
    bus.ack(EVENTS, "orders", [e.id for e in first])
    rest = bus.read_group(EVENTS, "orders", "c1", count=3)

    assert payloads(first) == batch(5)[:3]
    assert payloads(rest) == batch(5)[3:]


def test_a_count_below_one_is_refused(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    with pytest.raises(ValueError, match="count was 0"):
        bus.read_group(EVENTS, "orders", "c1", count=0)


# -- consumer groups ----------------------------------------------------------------------------

def test_each_group_sees_every_entry(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    bus.ensure_group(EVENTS, "risk")
    bus.publish(EVENTS, batch(3))

    orders = bus.read_group(EVENTS, "orders", "o1")
    bus.ack(EVENTS, "orders", [e.id for e in orders])

    assert payloads(orders) == batch(3)
    assert payloads(bus.read_group(EVENTS, "risk", "r1")) == batch(3)


def test_consumers_of_one_group_split_the_entries(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    bus.publish(EVENTS, batch(4))

    first = bus.read_group(EVENTS, "orders", "c1", count=2)
    second = bus.read_group(EVENTS, "orders", "c2", count=10)

    assert payloads(first) + payloads(second) == batch(4)
    assert payloads(first) == batch(4)[:2]


def test_restarted_consumer_gets_its_unacked_entries_again_and_nothing_acked(
        open_bus_again: Callable[[], EventBus]) -> None:
    bus = open_bus_again()
    bus.ensure_group(EVENTS, "portfolio")
    bus.publish(EVENTS, batch(4))
    delivered = bus.read_group(EVENTS, "portfolio", "p1")
    bus.ack(EVENTS, "portfolio", [delivered[0].id, delivered[2].id])  # then it dies

    restarted = open_bus_again()
    resumed = restarted.read_group(EVENTS, "portfolio", "p1")
    restarted.ack(EVENTS, "portfolio", [e.id for e in resumed])
    restarted.publish(EVENTS, [b"new"])

    assert payloads(resumed) == [b"e1", b"e3"]
    assert [e.id for e in resumed] == [delivered[1].id, delivered[3].id]
    assert payloads(restarted.read_group(EVENTS, "portfolio", "p1")) == [b"new"]


def test_pending_entries_come_before_new_ones_until_acked(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    bus.publish(EVENTS, [b"a"])
    first = bus.read_group(EVENTS, "orders", "c1")
    bus.publish(EVENTS, [b"b"])

    again = bus.read_group(EVENTS, "orders", "c1")
    bus.ack(EVENTS, "orders", [e.id for e in again])
    then = bus.read_group(EVENTS, "orders", "c1")

    assert payloads(first) == payloads(again) == [b"a"]
    assert payloads(then) == [b"b"]


def test_a_group_started_at_dollar_sees_only_later_entries(bus: EventBus) -> None:
    bus.publish(EVENTS, [b"old"])
    bus.ensure_group(EVENTS, "alerts", start="$")
    bus.publish(EVENTS, [b"new"])

    assert payloads(bus.read_group(EVENTS, "alerts", "a1")) == [b"new"]


def test_ensure_group_again_keeps_the_groups_position(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    bus.publish(EVENTS, batch(2))
    bus.ack(EVENTS, "orders", [e.id for e in bus.read_group(EVENTS, "orders", "c1")])

    bus.ensure_group(EVENTS, "orders")

    assert bus.read_group(EVENTS, "orders", "c1") == []


def test_reading_a_group_never_created_raises_no_such_group(bus: EventBus) -> None:
    bus.publish(EVENTS, [b"x"])
    with pytest.raises(NoSuchGroupError, match="ensure_group"):
        bus.read_group(EVENTS, "nobody", "c1")


def test_claim_stale_moves_a_dead_consumers_entries_to_the_claimer(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "risk")
    bus.publish(EVENTS, batch(3))
    assert payloads(bus.read_group(EVENTS, "risk", "dead")) == batch(3)  # never acked

    too_fresh = bus.claim_stale(EVENTS, "risk", "alive", min_idle_ms=60_000)
    time.sleep(0.05)
    claimed = bus.claim_stale(EVENTS, "risk", "alive", min_idle_ms=20)

    assert too_fresh == []
    assert payloads(claimed) == batch(3)
    assert bus.read_group(EVENTS, "risk", "dead") == []
    assert payloads(bus.read_group(EVENTS, "risk", "alive")) == batch(3)


def test_trim_drops_entries_through_the_id(bus: EventBus) -> None:
    ids = bus.publish(EVENTS, batch(4))
    bus.ensure_group(EVENTS, "late")

    removed = bus.trim(EVENTS, keep_after_id=ids[1])

    assert removed == 2
    assert payloads(bus.read_group(EVENTS, "late", "c1")) == [b"e2", b"e3"]


# -- blocking reads -----------------------------------------------------------------------------

def test_block_ms_returns_as_soon_as_an_entry_arrives_from_another_thread(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    started = time.monotonic()
    thread, result = in_thread(lambda: bus.read_group(EVENTS, "orders", "c1", block_ms=5_000))
    time.sleep(0.05)
    bus.publish(EVENTS, [b"wake"])
    thread.join(timeout=5)

    assert payloads(result[0]) == [b"wake"]
    assert time.monotonic() - started < 2


def test_block_ms_waits_that_long_when_nothing_arrives(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    started = time.monotonic()

    assert bus.read_group(EVENTS, "orders", "c1", block_ms=100) == []
    assert 0.08 <= time.monotonic() - started < 2


def test_block_ms_zero_returns_at_once(bus: EventBus) -> None:
    bus.ensure_group(EVENTS, "orders")
    started = time.monotonic()

    assert bus.read_group(EVENTS, "orders", "c1") == []
    assert time.monotonic() - started < 0.05


# -- latest-value topics ------------------------------------------------------------------------

def test_a_newcomer_gets_the_last_value_of_each_key(open_bus_again: Callable[[], EventBus]) -> None:
    publisher = open_bus_again()
    publisher.publish_latest("quotes", "AAPL", b"100")
    publisher.publish_latest("quotes", "MSFT", b"400")
    publisher.publish_latest("quotes", "AAPL", b"101")
    publisher.publish_latest("other", "AAPL", b"x")

    newcomer = open_bus_again()

    assert newcomer.latest("quotes") == {"AAPL": b"101", "MSFT": b"400"}
    assert newcomer.latest("never") == {}


def test_following_a_topic_from_its_snapshot_misses_no_update(bus: EventBus) -> None:
    assert bus.latest_snapshot("quotes").last_id == "0-0"
    bus.publish_latest("quotes", "AAPL", b"100")
    snapshot = bus.latest_snapshot("quotes")
    bus.publish_latest("quotes", "MSFT", b"400")
    bus.publish_latest("quotes", "AAPL", b"102")

    updates = bus.read_latest_stream("quotes", snapshot.last_id)

    assert snapshot.values == {"AAPL": b"100"}
    assert [(e.key, e.payload) for e in updates] == [("MSFT", b"400"), ("AAPL", b"102")]
    assert bus.read_latest_stream("quotes", updates[-1].id) == []


def test_a_tick_published_at_once_reaches_a_blocked_follower_whole_and_in_order(
        bus: EventBus) -> None:
    # a feed's tick of quotes: the follower wakes once for all of it, the last value wins
    after = bus.latest_snapshot("quotes").last_id
    thread, result = in_thread(lambda: bus.read_latest_stream("quotes", after, block_ms=5_000))
    time.sleep(0.05)
    bus.publish_latest_many("quotes", [("AAPL", b"100"), ("MSFT", b"400"), ("AAPL", b"101")])
    bus.publish_latest_many("quotes", [])  # nothing to publish: no update
    thread.join(timeout=5)

    assert [(e.key, e.payload) for e in result[0]] == [
        ("AAPL", b"100"), ("MSFT", b"400"), ("AAPL", b"101")]
    snapshot = bus.latest_snapshot("quotes")
    assert snapshot.values == {"AAPL": b"101", "MSFT": b"400"}
    assert snapshot.last_id == result[0][-1].id


def test_read_latest_stream_blocks_until_an_update_arrives(bus: EventBus) -> None:
    after = bus.latest_snapshot("quotes").last_id
    thread, result = in_thread(lambda: bus.read_latest_stream("quotes", after, block_ms=5_000))
    time.sleep(0.05)
    bus.publish_latest("quotes", "AAPL", b"100")
    thread.join(timeout=5)

    assert [(e.key, e.payload) for e in result[0]] == [("AAPL", b"100")]


# -- lifecycle ----------------------------------------------------------------------------------

def test_a_closed_bus_refuses_work(bus: EventBus) -> None:
    bus.ping()
    bus.close()
    with pytest.raises(BusError, match="closed"):
        bus.publish(EVENTS, [b"x"])
