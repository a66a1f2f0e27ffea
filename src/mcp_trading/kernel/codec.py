"""Event encoding for the journal: msgpack bodies, a stable kind number per event type.

A journal record holds either one event (`kind` > 0) or a *segment*: every event of one
group commit, encoded in one call (`kind` == SEGMENT). A segment's `seq` is the sequence
number of its last event; its events are numbered contiguously up to it. Segments keep the
writer's cost per event far below one row per event; `events()` reads both shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

from mcp_trading.domain.events import EVENT_TYPES, Event
from mcp_trading.kernel.ports import JournalRecord

__all__ = ["SEGMENT", "decode", "encode", "events", "events_of_kinds", "kind_of", "record", "segment",
           "segment_of"]

SEGMENT = 0
_KIND_OF: dict[type[Any], int] = {cls: kind for kind, cls in EVENT_TYPES.items()}
_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_DECODERS = {kind: msgspec.msgpack.Decoder(cls) for kind, cls in EVENT_TYPES.items()}
_SEGMENT_DECODER = msgspec.msgpack.Decoder(tuple[int, list[tuple[int, msgspec.Raw]]])


def kind_of(event: Event) -> int:
    return _KIND_OF[type(event)]


def encode(event: Event) -> bytes:
    return _ENCODER.encode(event)


def record(seq: int, event: Event) -> JournalRecord:
    """One event as one record."""
    return JournalRecord(seq, _KIND_OF[type(event)], event.ts, _ENCODER.encode(event))


def segment(batch: Sequence[tuple[int, Event]]) -> JournalRecord:
    """Contiguously numbered events as one record (one encoder call for the whole batch)."""
    first, last = batch[0][0], batch[-1][0]
    if last - first + 1 != len(batch):
        raise ValueError(f"segment sequence numbers {first}..{last} are not contiguous")
    return segment_of(first, [event for _, event in batch])


def segment_of(first: int, events: Sequence[Event]) -> JournalRecord:
    """Events numbered first, first + 1, ... as one record."""
    body = (first, list(zip(map(_KIND_OF.__getitem__, map(type, events)), events, strict=True)))
    return JournalRecord(first + len(events) - 1, SEGMENT, events[-1].ts, _ENCODER.encode(body))


def decode(kind: int, payload: bytes) -> Event:
    """Decode one single-event record; an unknown kind raises KeyError naming it."""
    try:
        decoder = _DECODERS[kind]
    except KeyError:
        raise KeyError(f"journal holds event kind {kind}, unknown to this version") from None
    event: Event = decoder.decode(payload)
    return event


def _entries(records: Iterable[JournalRecord], after_seq: int) -> Iterator[tuple[int, int, Any]]:
    """(seq, kind, undecoded body) of every event above `after_seq`, in order."""
    for rec in records:
        if rec.kind != SEGMENT:
            if rec.seq > after_seq:
                yield rec.seq, rec.kind, rec.payload
            continue
        first, body = _SEGMENT_DECODER.decode(rec.payload)
        for offset, (kind, raw) in enumerate(body):
            if first + offset > after_seq:
                yield first + offset, kind, raw


def events(records: Iterable[JournalRecord], after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    """Every event in the records with a sequence number above `after_seq`, in order."""
    for seq, kind, raw in _entries(records, after_seq):
        yield seq, decode(kind, raw)


def events_of_kinds(records: Iterable[JournalRecord], after_seq: int,
                    kinds: frozenset[int]) -> Iterator[tuple[int, Event | None]]:
    """As `events`, but only events of `kinds` are decoded; the others come as (seq, None),
    so a reader that needs a few kinds still sees every sequence number."""
    for seq, kind, raw in _entries(records, after_seq):
        yield seq, decode(kind, raw) if kind in kinds else None
