"""Bus fixtures: the same contract runs on the in-memory bus and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from mcp_trading.adapters.bus import EventBus, InMemoryBus, RedisBus
from mcp_trading.adapters.bus.connection import glob_escape

REDIS = pytest.param("redis", marks=pytest.mark.redis)


def delete_under(url: str, prefix: str) -> None:
    """Delete this test's keys (only those under its prefix)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=glob_escape(prefix) + "*", count=500))
        if keys:
            client.unlink(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"mcp-trading-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    delete_under(redis_url, prefix)


@pytest.fixture(params=["memory", REDIS])
def open_bus_again(request: pytest.FixtureRequest) -> Iterator[Callable[[], EventBus]]:
    """Opens a bus on one backend's state; a second call is a restarted process's bus.

    The in-memory bus is its own server, so "restarting" returns the same one; on Redis each
    call connects a new client to the same keys.
    """
    opened: list[EventBus] = []
    if request.param == "memory":
        memory = InMemoryBus()
        opened.append(memory)

        def reopen() -> EventBus:
            return memory
    else:
        url = str(request.getfixturevalue("redis_url"))
        prefix = str(request.getfixturevalue("redis_prefix"))

        def reopen() -> EventBus:
            opened.append(RedisBus(url, prefix=prefix))
            return opened[-1]

    yield reopen
    for bus in opened:
        bus.close()


@pytest.fixture
def bus(open_bus_again: Callable[[], EventBus]) -> EventBus:
    """An empty bus on each backend."""
    return open_bus_again()
