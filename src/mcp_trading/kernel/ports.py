"""The small interfaces the kernel depends on; adapters implement them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

from mcp_trading.domain.market import Quote

__all__ = ["Clock", "JournalRecord", "JournalStore", "QuoteFeed", "Snapshot"]


class Clock(Protocol):
    def now_ns(self) -> int: ...


class JournalRecord(NamedTuple):
    """One journaled event as stored: sequence, stable kind number, event time, encoded body."""

    seq: int
    kind: int
    ts: int
    payload: bytes


class Snapshot(NamedTuple):
    """A snapshot as saved and loaded (kernel.snapshot).

    `refs` names, by digest, the stored segments of duplicate-check entries its payload
    references. Saving: `segments` are the ones the store may not hold yet (digest, body),
    stored with it. Loading: the store fills `segments` with every one in `refs`.
    """

    seq: int  # the state includes every event up to and including this sequence number
    payload: bytes
    segments: tuple[tuple[bytes, bytes], ...] = ()
    refs: tuple[bytes, ...] = ()


class JournalStore(Protocol):
    """Durable, append-only event storage. One writer; readers may be anywhere.

    `append` writes a batch in one transaction (the group commit) and returns only when it is
    durable. Sequence numbers are contiguous and strictly increasing; appending one that is
    not greater than `last_seq()` raises ValueError and writes nothing.
    """

    def append(self, records: Iterable[JournalRecord]) -> None: ...
    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[JournalRecord]: ...
    def last_seq(self) -> int: ...
    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep `snapshot` and its new segments in one step; refuse (ValueError, nothing
        saved) one whose `refs` name a segment neither stored nor in `segments`."""
        ...
    def latest_snapshot(self) -> Snapshot | None: ...
    def close(self) -> None: ...


class QuoteFeed(Protocol):
    """A source of quotes. `name` identifies the provider; `calendar` names its sessions."""

    name: str

    def symbols(self) -> list[str]: ...
    def next_quotes(self, ts: int) -> list[Quote]:
        """Quotes up to time `ts` (ns) not yet delivered, in time order."""
        ...
