"""The event bus: journaled streams with consumer groups, and latest-value topics for quotes.

`open_bus(url)` picks the backend: the in-memory bus for one process (tests, embedded mode),
Redis when services run as separate processes. The interface and its error hierarchy are in
`ports`.
"""

from __future__ import annotations

from mcp_trading.adapters.bus.connection import REDIS_SCHEMES, RedisOptions, redact_url
from mcp_trading.adapters.bus.memory import InMemoryBus
from mcp_trading.adapters.bus.ports import (
    DEFAULT_PREFIX,
    BusEntry,
    BusError,
    BusUnavailableError,
    EventBus,
    LatestSnapshot,
    NoSuchGroupError,
)
from mcp_trading.adapters.bus.redis_bus import RedisBus

__all__ = [
    "DEFAULT_PREFIX",
    "BusEntry",
    "BusError",
    "BusUnavailableError",
    "EventBus",
    "InMemoryBus",
    "LatestSnapshot",
    "NoSuchGroupError",
    "RedisBus",
    "RedisOptions",
    "open_bus",
    "redact_url",
]

MEMORY_URLS = ("memory://", "memory:")


def open_bus(url: str | None, *, prefix: str = DEFAULT_PREFIX,
             options: RedisOptions | None = None) -> EventBus:
    """Open the bus a URL names: None or `memory://` in process, `redis://…`/`rediss://…` Redis.

    No I/O happens here: call `ping()` to check that Redis is reachable.
    """
    if url is None or url in MEMORY_URLS:
        return InMemoryBus()
    if url.startswith(REDIS_SCHEMES):
        return RedisBus(url, prefix=prefix, options=options)
    raise ValueError(f"bus URL was {redact_url(url)!r}; use memory:// or redis://host:port/db")
