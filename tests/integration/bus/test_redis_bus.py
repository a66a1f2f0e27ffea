"""What only the Redis bus does: key layout, reconnecting, and errors that hide the password."""

from __future__ import annotations

import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tests.redis_server import Server

from mcp_trading.adapters.bus import BusUnavailableError, RedisBus, RedisOptions, redact_url
from mcp_trading.adapters.bus.connection import glob_escape

CLOSED_PORT_URL = "redis://:s3cret@127.0.0.1:1/0"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; this test restarts its own server")
    started = Server(tmp_path)
    started.start()
    yield started
    started.stop()


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cret@host:6379/0", "redis://***@host:6379/0"),
    ("rediss://user:s3cret@host/1", "rediss://***@host/1"),
    ("redis://host:6379/0?password=s3cret&db=2", "redis://host:6379/0?password=***&db=2"),
    ("redis://host:6379/0", "redis://host:6379/0"),
])
def test_redact_url_hides_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_unreachable_server_raises_unavailable_without_the_password() -> None:
    bus = RedisBus(CLOSED_PORT_URL)  # no I/O yet
    started = time.monotonic()

    with pytest.raises(BusUnavailableError) as caught:
        bus.ping()
    with pytest.raises(BusUnavailableError):
        bus.publish("events", [b"x"])

    printed = "".join(traceback.format_exception(caught.value))
    assert "s3cret" not in printed
    assert "s3cret" not in repr(bus)
    assert "redis://***@127.0.0.1:1/0" in str(caught.value)
    assert "unreachable" in str(caught.value)
    assert time.monotonic() - started < 3  # a few quick retries, not a long stall


def test_the_buss_keys_live_under_its_prefix(redis_url: str, redis_prefix: str) -> None:
    bus = RedisBus(redis_url, prefix=redis_prefix)
    bus.publish("events", [b"x"])
    bus.ensure_group("orders-in", "orders")
    bus.publish_latest("quotes", "AAPL", b"100")
    bus.close()

    client = redis.Redis.from_url(redis_url)
    keys = {k.decode() for k in client.scan_iter(match=glob_escape(redis_prefix) + "*")}
    client.close()

    assert keys == {f"{redis_prefix}stream:events", f"{redis_prefix}stream:orders-in",
                    f"{redis_prefix}topic:quotes:log", f"{redis_prefix}topic:quotes:latest"}


@pytest.mark.slow
@pytest.mark.parametrize("retries", [0, 5])
def test_the_bus_rides_through_a_server_restart_by_retrying(server: Server, retries: int) -> None:
    bus = RedisBus(f"redis://127.0.0.1:{server.port}/0", options=RedisOptions(retries=retries))
    bus.ping()
    server.stop()
    restart = threading.Timer(0.05, server.start)  # back while the client is still retrying
    restart.start()
    try:
        if retries:
            bus.ping()
            bus.publish("events", [b"after the restart"])
        else:  # the control: without retries the same restart is an error
            with pytest.raises(BusUnavailableError):
                bus.ping()
    finally:
        restart.join()
        bus.close()


def test_a_block_longer_than_the_socket_allows_is_refused(redis_url: str, redis_prefix: str) -> None:
    bus = RedisBus(redis_url, prefix=redis_prefix, max_block_ms=1_000,
                   options=RedisOptions(retries=0))
    bus.ensure_group("events", "orders")
    with pytest.raises(ValueError, match="block_ms was 1001"):
        bus.read_group("events", "orders", "c1", block_ms=1_001)
    bus.close()
