"""Opening a bus by URL, the package's public surface, and the in-memory bus's shutdown."""

from __future__ import annotations

import threading

import pytest

import mcp_trading.adapters.bus as package
from mcp_trading.adapters.bus import BusError, InMemoryBus, RedisBus, open_bus


@pytest.mark.parametrize("url", [None, "memory://"])
def test_open_bus_without_a_server_is_in_memory(url: str | None) -> None:
    assert isinstance(open_bus(url), InMemoryBus)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://h:6380/2"])
def test_open_bus_on_a_redis_url_connects_lazily(url: str) -> None:
    bus = open_bus(url)  # no server at these: constructing must not touch the network
    assert isinstance(bus, RedisBus)
    bus.close()


def test_open_bus_refuses_an_unknown_scheme_without_echoing_the_password() -> None:
    with pytest.raises(ValueError, match="use memory:// or redis://") as caught:
        open_bus("amqp://guest:s3cret@host/")
    assert "s3cret" not in str(caught.value)


def test_closing_the_memory_bus_wakes_a_blocked_reader() -> None:
    bus = InMemoryBus()
    bus.ensure_group("events", "orders")
    errors: list[Exception] = []

    def read() -> None:
        try:
            bus.read_group("events", "orders", "c1", block_ms=5_000)
        except BusError as exc:
            errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    bus.close()
    thread.join(timeout=2)

    assert not thread.is_alive()
    assert len(errors) == 1


def test_memory_claim_stale_goes_by_the_injected_clock() -> None:
    now = [0.0]
    bus = InMemoryBus(clock_ms=lambda: now[0])
    bus.ensure_group("events", "risk")
    bus.publish("events", [b"a"])
    bus.read_group("events", "risk", "dead")

    now[0] = 999.0
    early = bus.claim_stale("events", "risk", "alive", min_idle_ms=1_000)
    now[0] = 1_000.0
    on_time = bus.claim_stale("events", "risk", "alive", min_idle_ms=1_000)

    assert early == []
    assert [e.payload for e in on_time] == [b"a"]


def test_the_public_surface_is_pinned() -> None:
    assert sorted(package.__all__) == [
        "BusEntry", "BusError", "BusUnavailableError", "DEFAULT_PREFIX", "EventBus",
        "InMemoryBus", "LatestSnapshot", "NoSuchGroupError", "RedisBus", "RedisOptions",
        "open_bus", "redact_url",
    ]
