"""What the kernel keeps of a closed order: its duplicate-check entry, ~150 bytes.

A closed (terminal) order leaves the kernel's hot state once the projections hold it (see
`KernelState.release`); what stays is `(account, client_order_id) -> order id + a digest of
the request`, so a retry with the same client_order_id is still answered as today: the same
request gets the existing order back, a different one is refused as a duplicate.

An entry is one `bytes` value under the client_order_id in a per-account dict: 12 bytes of
BLAKE2b digest, then the order id packed to 16 bytes (our ids are UUID-shaped hex) or its ASCII
text otherwise. Measured (tests/unit/kernel/test_dedupe.py): ~150 B per entry with a 13-char
client_order_id (the key string ~62 B, the value 61 B, the dict slot ~30-40 B).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import Enum

from mcp_trading.domain.orders import OrderRequest

__all__ = ["DIGEST_SIZE", "pack", "request_digest", "unpack"]

DIGEST_SIZE = 12
_UUID_MARK = b"\x00"  # an ASCII order id never starts with NUL
_ZERO = Decimal(0)


def _canon(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # numerically equal decimals compare equal in OrderRequest ("1.0" == "1"): so must
        # their digests. normalize() is canonical except for the sign of zero.
        return "0" if value == _ZERO else str(value.normalize())
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def request_digest(request: OrderRequest) -> bytes:
    """A digest equal for two requests exactly when `OrderRequest.__eq__` says they are."""
    text = "\x1f".join([_canon(v) for v in request])
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_SIZE).digest()


def pack(order_id: str, digest: bytes) -> bytes:
    if len(order_id) == 36 and order_id.count("-") == 4:
        try:
            return digest + _UUID_MARK + bytes.fromhex(order_id.replace("-", ""))
        except ValueError:
            pass
    return digest + order_id.encode()


def unpack(entry: bytes) -> tuple[str, bytes]:
    """(order id, request digest) of a packed entry."""
    digest, rest = entry[:DIGEST_SIZE], entry[DIGEST_SIZE:]
    if rest[:1] == _UUID_MARK and len(rest) == 17:
        h = rest[1:].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}", digest
    return rest.decode(), digest
