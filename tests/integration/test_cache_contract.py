"""The platform cache contract, run on the in-memory cache and on Redis, and what `clear` spares."""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Iterator

import pytest
import redis

import mcp_trading.adapters.cache as package
from mcp_trading.adapters.bus.connection import glob_escape
from mcp_trading.adapters.cache import (
    Cache,
    CacheError,
    CacheUnavailableError,
    MemoryCache,
    PlatformCache,
    open_cache,
)

REDIS = pytest.param("redis", marks=pytest.mark.redis)


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A key namespace no other test uses; every key under it is deleted afterwards."""
    space = f"mcp-trading-test:{uuid.uuid4().hex[:12]}:"
    yield space
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=glob_escape(space) + "*"))
    if keys:
        client.unlink(*keys)
    client.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# glob metacharacters on purpose: an unescaped MATCH would also hit "caXhe1:"
def cache_prefix(space: str) -> str:
    return f"{space}ca*he[1]:"


@pytest.fixture(params=["memory", REDIS])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        opened: Cache = MemoryCache()
    else:
        space = str(request.getfixturevalue("namespace"))
        opened = PlatformCache(str(request.getfixturevalue("redis_url")), prefix=cache_prefix(space))
    yield opened
    opened.close()


def test_a_missing_key_reads_as_none(cache: Cache) -> None:
    assert cache.get("nothing") is None


def test_set_then_get_returns_the_bytes_and_delete_removes_them(cache: Cache) -> None:
    cache.set("quote:AAPL", b"\x00100.25")
    assert cache.get("quote:AAPL") == b"\x00100.25"

    cache.delete("quote:AAPL")
    cache.delete("quote:AAPL")  # deleting a missing key is no error

    assert cache.get("quote:AAPL") is None


def test_a_value_expires_after_its_ttl(cache: Cache) -> None:
    cache.set("short", b"x", ttl_s=0.05)
    cache.set("long", b"y", ttl_s=60)
    assert cache.get("short") == b"x"

    time.sleep(0.1)

    assert cache.get("short") is None
    assert cache.get("long") == b"y"


@pytest.mark.parametrize("ttl_s", [0, -1.0, float("nan")])
def test_a_ttl_that_is_not_positive_is_refused(cache: Cache, ttl_s: float) -> None:
    with pytest.raises(ValueError, match="ttl_s was"):
        cache.set("k", b"v", ttl_s=ttl_s)


def test_clear_deletes_every_key_and_counts_them(cache: Cache) -> None:
    for i in range(1_203):  # more than one SCAN/UNLINK batch
        cache.set(f"k{i}", b"v")

    assert cache.clear() == 1_203
    assert cache.get("k0") is None
    assert cache.get("k1202") is None
    assert cache.clear() == 0


@pytest.mark.redis
def test_clear_spares_keys_outside_the_prefix(redis_url: str, namespace: str,
                                              raw: redis.Redis) -> None:
    cache = PlatformCache(redis_url, prefix=cache_prefix(namespace))
    cache.set("mine", b"1")
    foreign = [f"{namespace}caXhe1:lookalike", f"{namespace}other", f"{namespace}ca*he[1]"]
    for key in foreign:
        raw.set(key, b"keep")

    assert cache.clear() == 1
    assert [raw.get(key) for key in foreign] == [b"keep"] * len(foreign)
    cache.close()


def test_an_unreachable_cache_raises_unavailable_without_the_password() -> None:
    cache = PlatformCache("redis://:s3cret@127.0.0.1:1/0")
    with pytest.raises(CacheUnavailableError) as caught:
        cache.get("k")
    assert "s3cret" not in "".join(traceback.format_exception(caught.value))
    assert "redis://***@127.0.0.1:1/0" in str(caught.value)


def test_a_closed_cache_refuses_work(cache: Cache) -> None:
    cache.close()
    with pytest.raises(CacheError, match="closed"):
        cache.get("k")


def test_an_empty_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix was empty"):
        PlatformCache("redis://127.0.0.1:1/0", prefix="")


@pytest.mark.parametrize(("url", "kind"), [
    (None, MemoryCache), ("memory://", MemoryCache), ("redis://127.0.0.1:1/0", PlatformCache)])
def test_open_cache_picks_the_backend_from_the_url(url: str | None, kind: type) -> None:
    opened = open_cache(url)
    assert isinstance(opened, kind)
    opened.close()


def test_the_public_surface_is_pinned() -> None:
    assert sorted(package.__all__) == [
        "CACHE_PREFIX", "Cache", "CacheError", "CacheUnavailableError", "MemoryCache",
        "PlatformCache", "open_cache",
    ]
