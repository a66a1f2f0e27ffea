"""The platform cache: short-lived bytes by key, in Redis across processes or in memory.

Every key lives under the cache prefix ("mcp-trading:cache:" by default), so `clear` can
empty the cache on a Redis server shared with other data: it deletes only keys under the
prefix (SCAN MATCH + UNLINK, never FLUSHDB).

Errors::

    RuntimeError
    └── CacheError                 Redis refused an operation, or the cache is closed
        └── CacheUnavailableError  Redis cannot be reached (URL shown with its password
                                   redacted); the client reconnects by itself
    ValueError                     an empty prefix or a ttl_s <= 0
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, cast

from mcp_trading.adapters.bus.connection import (
    REDIS_SCHEMES,
    RedisOptions,
    connect,
    glob_escape,
    redact_url,
    redis_errors,
)
from mcp_trading.domain.errors import TradingError

__all__ = [
    "CACHE_PREFIX",
    "Cache",
    "CacheError",
    "CacheUnavailableError",
    "MemoryCache",
    "PlatformCache",
    "open_cache",
]

CACHE_PREFIX = "mcp-trading:cache:"
_CLEAR_BATCH = 500  # keys per SCAN page and per UNLINK


class CacheError(TradingError, RuntimeError):
    """The cache refused an operation; the message says which and why."""


class CacheUnavailableError(CacheError):
    """Redis cannot be reached; retry later (the client reconnects by itself)."""


class Cache(Protocol):
    """Bytes by key with an optional time to live; a miss is None, never an error."""

    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...
    def delete(self, key: str) -> None: ...
    def clear(self) -> int:
        """Delete every key of this cache (only those); return how many were deleted."""
        ...
    def ping(self) -> None:
        """Return if the cache is reachable; raise CacheUnavailableError otherwise."""
        ...
    def close(self) -> None: ...


def _check_ttl(ttl_s: float | None) -> None:
    if ttl_s is not None and not ttl_s > 0:  # `not >` also refuses NaN
        raise ValueError(f"ttl_s was {ttl_s}; must be > 0, or None to keep the value")


class PlatformCache:
    """The cache in Redis, under a key prefix; connects lazily (constructing does no I/O)."""

    def __init__(self, url: str, *, prefix: str = CACHE_PREFIX,
                 options: RedisOptions | None = None) -> None:
        if not prefix:
            raise ValueError("prefix was empty; clear() would delete the whole database")
        self._url = url
        self._prefix = prefix
        self._redis = connect(url, options or RedisOptions())
        self._closed = False

    def __repr__(self) -> str:
        return f"PlatformCache({redact_url(self._url)!r}, prefix={self._prefix!r})"

    def get(self, key: str) -> bytes | None:
        with self._errors(f"reading cache key {key!r}"):
            return cast("bytes | None", self._redis.get(self._prefix + key))

    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        _check_ttl(ttl_s)
        px = None if ttl_s is None else max(1, math.ceil(ttl_s * 1000))
        with self._errors(f"writing cache key {key!r}"):
            self._redis.set(self._prefix + key, value, px=px)

    def delete(self, key: str) -> None:
        with self._errors(f"deleting cache key {key!r}"):
            self._redis.unlink(self._prefix + key)

    def clear(self) -> int:
        prefix = self._prefix.encode()
        deleted = 0
        with self._errors(f"clearing the keys under {self._prefix!r}"):
            batch: list[bytes] = []
            for key in self._redis.scan_iter(match=glob_escape(self._prefix) + "*",
                                             count=_CLEAR_BATCH):
                if cast("bytes", key).startswith(prefix):  # belt and braces over MATCH
                    batch.append(key)
                if len(batch) >= _CLEAR_BATCH:
                    deleted += cast("int", self._redis.unlink(*batch))
                    batch.clear()
            if batch:
                deleted += cast("int", self._redis.unlink(*batch))
        return deleted

    def ping(self) -> None:
        """Return if Redis answers; raise CacheUnavailableError otherwise."""
        with self._errors("answering PING"):
            self._redis.ping()

    def close(self) -> None:
        self._closed = True
        self._redis.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        if self._closed:
            raise CacheError("the cache is closed; open a new one with open_cache(url)")
        with redis_errors(self._url, doing, unavailable=CacheUnavailableError,
                          refused=CacheError):
            yield


class MemoryCache:
    """The cache in a dict, for one process; `clock` (monotonic seconds) times expiry."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[bytes, float | None]] = {}  # key -> (value, expires at)
        self._lock = threading.Lock()
        self._closed = False

    def get(self, key: str) -> bytes | None:
        with self._lock:
            self._check_open()
            self._expire()
            found = self._values.get(key)
            return found[0] if found else None

    def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        _check_ttl(ttl_s)
        with self._lock:
            self._check_open()
            expires = None if ttl_s is None else self._clock() + ttl_s
            self._values[key] = (bytes(value), expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._check_open()
            self._values.pop(key, None)

    def clear(self) -> int:
        with self._lock:
            self._check_open()
            self._expire()
            deleted = len(self._values)
            self._values.clear()
            return deleted

    def ping(self) -> None:
        self._check_open()

    def close(self) -> None:
        self._closed = True

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (_, expires) in self._values.items()
                    if expires is not None and expires <= now]:
            del self._values[key]

    def _check_open(self) -> None:
        if self._closed:
            raise CacheError("the cache is closed; open a new one with open_cache(url)")


def open_cache(url: str | None, *, prefix: str = CACHE_PREFIX,
               options: RedisOptions | None = None) -> Cache:
    """Open the cache a URL names: None or `memory://` in process, `redis://…` in Redis."""
    if url is None or url in ("memory://", "memory:"):
        return MemoryCache()
    if url.startswith(REDIS_SCHEMES):
        return PlatformCache(url, prefix=prefix, options=options)
    raise ValueError(f"cache URL was {redact_url(url)!r}; use memory:// or redis://host:port/db")
