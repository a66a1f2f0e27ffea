"""The event bus interface: journaled streams with consumer groups, and latest-value topics.

The trading engine (the single writer) publishes journaled events to a stream; each service
reading them owns a consumer group, so every group sees every entry, and within a group each
entry goes to one consumer until acknowledged (at-least-once: a consumer that dies before
`ack` gets its entries again when it restarts under the same name, or another consumer takes
them over with `claim_stale`). Quotes go to latest-value topics instead: a capped stream of
updates plus the current value of each key, so a newcomer needs no history.

Methods are synchronous; asyncio callers run blocking reads (`block_ms > 0`) with
`asyncio.to_thread`.

Errors (BusError also derives from the root, domain/errors.py: TradingError)::

    RuntimeError
    └── BusError                 the bus refused an operation (closed, server error)
        ├── BusUnavailableError  the server cannot be reached (URL shown with its password
        │                        redacted); the caller retries later, the client reconnects
        └── NoSuchGroupError     a consumer group was read before `ensure_group` created it
    ValueError                   an argument is out of range (count < 1, block_ms too long)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from mcp_trading.domain.errors import TradingError

__all__ = [
    "DEFAULT_PREFIX",
    "BusEntry",
    "BusError",
    "BusUnavailableError",
    "EventBus",
    "LatestSnapshot",
    "NoSuchGroupError",
]

DEFAULT_PREFIX = "mcp-trading:"  # every key the bus creates starts with its prefix


class BusError(TradingError, RuntimeError):
    """The bus refused an operation; the message says which and why."""


class BusUnavailableError(BusError):
    """The bus server cannot be reached; retry later (the client reconnects by itself)."""


class NoSuchGroupError(BusError):
    """A consumer group was read before `ensure_group` created it."""


class BusEntry(NamedTuple):
    """One stream entry. `id` increases along a stream ("<ms>-<seq>", compare as two ints).

    `key` is set only on entries of a latest-value topic (the key the payload is the value
    of); journaled streams carry the payload alone.
    """

    id: str
    payload: bytes
    key: str | None = None


class LatestSnapshot(NamedTuple):
    """A latest-value topic's current value per key, and the last update they include.

    Follow the topic without a gap with `read_latest_stream(topic, snapshot.last_id)`.
    """

    values: dict[str, bytes]
    last_id: str  # "0-0" when nothing was ever published


class EventBus(Protocol):
    """Streams of journaled events with consumer groups, and latest-value topics."""

    def publish(self, stream: str, payloads: Sequence[bytes]) -> list[str]:
        """Append a batch in order and atomically (all or nothing); return the entry ids."""
        ...

    def ensure_group(self, stream: str, group: str, *, start: str = "0") -> None:
        """Create a consumer group (and the stream) unless it exists.

        `start` is the id after which the group's first read begins: "0" for the whole
        stream, "$" for only entries published from now on.
        """
        ...

    def read_group(self, stream: str, group: str, consumer: str, *, count: int = 500,
                   block_ms: int = 0) -> list[BusEntry]:
        """Entries for `consumer`: its pending (delivered, not acked) ones first, else new ones.

        Pending entries come back on every call until acked, so a consumer restarted under
        the same name resumes where it stopped; ack a batch before reading the next.
        block_ms=0 returns at once; block_ms>0 waits up to that long for a new entry.
        """
        ...

    def ack(self, stream: str, group: str, ids: Sequence[str]) -> None:
        """Mark entries processed by the group; unknown ids are ignored."""
        ...

    def claim_stale(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                    count: int = 500) -> list[BusEntry]:
        """Take over entries pending longer than min_idle_ms on any consumer of the group."""
        ...

    def trim(self, stream: str, *, keep_after_id: str) -> int:
        """Drop entries with id <= keep_after_id (already applied everywhere); return how many."""
        ...

    def publish_latest(self, topic: str, key: str, payload: bytes) -> None:
        """Set the latest value of `key` on `topic` and append the update to its capped stream."""
        ...

    def publish_latest_many(self, topic: str, updates: Sequence[tuple[str, bytes]]) -> None:
        """`publish_latest` for each (key, payload) in order, as one atomic update.

        A follower blocked on the topic wakes once for all of them (a feed's tick of quotes),
        not once per key.
        """
        ...

    def latest(self, topic: str) -> dict[str, bytes]:
        """The current value of each key of `topic`."""
        ...

    def latest_snapshot(self, topic: str) -> LatestSnapshot:
        """The current values and the id of the last update they include, read atomically."""
        ...

    def read_latest_stream(self, topic: str, after_id: str, *, count: int = 500,
                           block_ms: int = 0) -> list[BusEntry]:
        """Updates of `topic` after `after_id`, each with its `key` set.

        The stream is capped, so a follower that falls further behind than the cap (or was
        away, e.g. disconnected) may miss a key's update: it takes a fresh `latest_snapshot`.
        """
        ...

    def ping(self) -> None:
        """Return if the bus is reachable; raise BusUnavailableError otherwise."""
        ...

    def close(self) -> None:
        ...
