"""What distributed mode puts on the bus, and how it is encoded.

    stream "events"   one entry per journal record (a group commit's segment), in journal
                      order: (seq, kind, ts, payload) — the record exactly as stored
    topic  "quotes"   the latest quote per symbol (latest value wins)

Consumers are idempotent by sequence number: an entry whose events they already hold is
skipped, a gap is filled from the journal store, so redelivery and loss both converge.
"""

from __future__ import annotations

import msgspec

from mcp_trading.domain.market import Quote
from mcp_trading.kernel.ports import JournalRecord

__all__ = ["EVENTS", "QUOTES", "decode_quote", "decode_record", "encode_quote", "encode_record"]

EVENTS = "events"
QUOTES = "quotes"

_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_RECORD = msgspec.msgpack.Decoder(tuple[int, int, int, bytes])
_QUOTE = msgspec.msgpack.Decoder(Quote)


def encode_record(record: JournalRecord) -> bytes:
    return _ENCODER.encode((record.seq, record.kind, record.ts, record.payload))


def decode_record(payload: bytes) -> JournalRecord:
    return JournalRecord(*_RECORD.decode(payload))


def encode_quote(quote: Quote) -> bytes:
    return _ENCODER.encode(quote)


def decode_quote(payload: bytes) -> Quote:
    quote: Quote = _QUOTE.decode(payload)
    return quote
