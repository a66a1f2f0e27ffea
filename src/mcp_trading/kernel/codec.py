"""Event encoding for the journal: msgpack bodies, a stable kind number per event type."""

from __future__ import annotations

from typing import Any

import msgspec

from mcp_trading.domain.events import EVENT_TYPES, Event
from mcp_trading.kernel.ports import JournalRecord

__all__ = ["decode", "encode", "kind_of", "record"]

_KIND_OF: dict[type[Any], int] = {cls: kind for kind, cls in EVENT_TYPES.items()}
_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_DECODERS = {kind: msgspec.msgpack.Decoder(cls) for kind, cls in EVENT_TYPES.items()}


def kind_of(event: Event) -> int:
    return _KIND_OF[type(event)]


def encode(event: Event) -> bytes:
    return _ENCODER.encode(event)


def record(seq: int, event: Event) -> JournalRecord:
    return JournalRecord(seq, _KIND_OF[type(event)], event.ts, _ENCODER.encode(event))


def decode(kind: int, payload: bytes) -> Event:
    """Decode one stored event; an unknown kind raises KeyError naming it."""
    try:
        decoder = _DECODERS[kind]
    except KeyError:
        raise KeyError(f"journal holds event kind {kind}, unknown to this version") from None
    event: Event = decoder.decode(payload)
    return event
