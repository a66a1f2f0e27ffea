"""What the kernel keeps of a closed order: its duplicate-check entry, ~150 bytes.

A closed (terminal) order leaves the kernel's hot state once the projections hold it (see
`KernelState.release`); what stays is `(account, client_order_id) -> order id + a digest of
the request`, so a retry with the same client_order_id is still answered as today: the same
request gets the existing order back, a different one is refused as a duplicate.

An entry is one `bytes` value under the client_order_id in a per-account dict: 12 bytes of
BLAKE2b digest, then the order id packed to 16 bytes (our ids are UUID-shaped hex) or its ASCII
text otherwise. Measured (tests/unit/kernel/test_dedupe.py): ~150 B per entry with a 13-char
client_order_id (the key string ~62 B, the value 61 B, the dict slot ~30-40 B).

`DedupeIndex` holds the entries in generations so a snapshot never copies them on the
writer's thread: `seal` (O(1)) freezes the current generation and starts a new one; frozen
generations are never changed again, so a worker thread can encode them and merge small ones
of one day (`compact`, up to `SEAL_AT` entries), which `swap` then puts in place. A writer
whose snapshots are forked seals by `roll`: at `SEAL_AT` entries and at the end of a UTC day.

A sealed generation is stored once, as a segment of its own addressed by the digest of its
bytes (`Generation.digest`, set once the store holds it); a snapshot references the stored
ones and carries only the entries not yet in one, so what it writes does not grow with the
day (kernel.snapshot). Generations older than the
configured memory window are dropped (`expire`): their orders are in the projections'
`orders` table, and a Bloom filter of their keys (~1.2 B per entry, ~1 % false positives)
says when a new client_order_id needs that table asked (`maybe_archived`), so a new order
is not a store query.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum

from mcp_trading.domain.orders import OrderRequest

__all__ = ["DAY_NS", "DIGEST_SIZE", "SEAL_AT", "BloomFilter", "DedupeIndex", "Generation", "pack",
           "request_digest", "unpack"]

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


DAY_NS = 86_400 * 1_000_000_000
#: entries a generation is sealed at (and compacted up to): a stored segment of ~2 MB, so a
#: snapshot re-encodes at most that many entries; a new client_order_id costs one dict probe
#: per generation (~70 ns), ~20 generations a million orders
SEAL_AT = 50_000
Entries = dict[str, dict[str, bytes]]  # account id -> client_order_id -> packed entry


class Generation:
    """Entries released before `sealed_at` (ns); never changed once sealed."""

    __slots__ = ("digest", "entries", "sealed_at")

    def __init__(self, sealed_at: int, entries: Entries, digest: bytes | None = None) -> None:
        self.sealed_at = sealed_at
        self.entries = entries
        #: the stored segment's digest once the store holds it (set by the snapshot's saver:
        #: one attribute store, safe from another thread); None: not stored yet
        self.digest = digest

    def __len__(self) -> int:
        return sum(len(d) for d in self.entries.values())

    def __repr__(self) -> str:
        return f"Generation(sealed_at={self.sealed_at}, entries={len(self)})"


class BloomFilter:
    """A fixed-size Bloom filter over (account, client_order_id)."""

    __slots__ = ("bits", "hashes", "size")

    def __init__(self, capacity: int, *, bits: bytes | None = None, hashes: int = 7,
                 size: int | None = None) -> None:
        self.size = size or max(64, math.ceil(capacity * 9.6))  # ~1 % false positives
        self.hashes = hashes
        self.bits = bytearray(bits) if bits is not None else bytearray((self.size + 7) // 8)

    def _positions(self, account_id: str, client_order_id: str) -> Iterable[int]:
        h = hashlib.blake2b(f"{account_id}\x1f{client_order_id}".encode(), digest_size=16).digest()
        a, b = int.from_bytes(h[:8], "little"), int.from_bytes(h[8:], "little") | 1
        return ((a + i * b) % self.size for i in range(self.hashes))

    def add(self, account_id: str, client_order_id: str) -> None:
        bits = self.bits
        for p in self._positions(account_id, client_order_id):
            bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, key: tuple[str, str]) -> bool:
        bits = self.bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(*key))


class DedupeIndex:
    """The duplicate-check entries of released orders, in generations (see the module doc)."""

    __slots__ = ("archived", "current", "current_day", "current_size", "sealed")

    def __init__(self) -> None:
        self.current: Entries = {}
        self.current_size = 0  # entries added to `current` (a rewrite counts twice: a bound)
        self.current_day: int | None = None  # UTC day `roll` saw the current generation in
        self.sealed: list[Generation] = []  # oldest first; never mutated
        self.archived: list[BloomFilter] = []

    def __len__(self) -> int:
        return sum(len(d) for g in (self.current, *(s.entries for s in self.sealed))
                   for d in g.values())

    def as_dict(self) -> Entries:
        """Every entry in memory, merged (inspection and tests; not for the hot path)."""
        merged: Entries = {}
        for generation in (*(s.entries for s in self.sealed), self.current):
            for account_id, entries in generation.items():
                merged.setdefault(account_id, {}).update(entries)
        return merged

    def add(self, account_id: str, client_order_id: str, entry: bytes) -> None:
        entries = self.current.get(account_id)
        if entries is None:
            entries = self.current[account_id] = {}
        entries[client_order_id] = entry
        self.current_size += 1

    def get(self, account_id: str, client_order_id: str) -> bytes | None:
        entries = self.current.get(account_id)
        if entries is not None:
            entry = entries.get(client_order_id)
            if entry is not None:
                return entry
        for generation in reversed(self.sealed):
            entries = generation.entries.get(account_id)
            if entries is not None:
                entry = entries.get(client_order_id)
                if entry is not None:
                    return entry
        return None

    def maybe_archived(self, account_id: str, client_order_id: str) -> bool:
        key = (account_id, client_order_id)
        return any(key in bloom for bloom in self.archived)

    def seal(self, now_ns: int) -> list[Generation]:
        """Freeze the current generation; returns every frozen one (safe to read anywhere)."""
        if self.current:
            self.sealed.append(Generation(now_ns, self.current))
            self.current = {}
        self.current_size = 0
        return list(self.sealed)

    def roll(self, now_ns: int) -> bool:
        """Seal the current generation once it holds `SEAL_AT` entries or its UTC day is over,
        so generations need no merging. Only for a writer whose generations no thread reads
        meanwhile (snapshots by a forked child, or none); returns whether it sealed."""
        day = now_ns // DAY_NS
        if not self.current:
            self.current_day = day
            return False
        if self.current_day is None:
            self.current_day = day
        if day == self.current_day and self.current_size < SEAL_AT:
            return False
        self.seal(now_ns)
        self.current_day = day
        return True

    @staticmethod
    def compact(generations: list[Generation]) -> list[Generation]:
        """Consecutive small generations of one UTC day merged into new ones of up to about
        `SEAL_AT` entries (a worker thread's job: a Python loop, so the GIL passes to the
        writer every few ms; the inputs are not changed). A full generation stays as it is, so
        its stored segment is written once."""
        groups: list[list[Generation]] = []
        size = 0  # entries in the last group
        for generation in generations:
            n = len(generation)
            last = groups[-1] if groups else None
            if (last is not None and size < SEAL_AT and n < SEAL_AT
                    and last[-1].sealed_at // DAY_NS == generation.sealed_at // DAY_NS):
                last.append(generation)
                size += n
            else:
                groups.append([generation])
                size = n
        merged: list[Generation] = []
        for group in groups:
            if len(group) == 1:
                merged.append(group[0])
                continue
            into: Entries = {}
            for generation in group:
                for account_id, entries in generation.entries.items():
                    target = into.setdefault(account_id, {})
                    for coid, entry in entries.items():
                        target[coid] = entry
            merged.append(Generation(group[-1].sealed_at, into))
        return merged

    def swap(self, old: list[Generation], merged: list[Generation]) -> bool:
        """Put `compact(old)` in place of `old` if nothing expired them meanwhile."""
        n = len(old)
        if len(self.sealed) < n or any(a is not b for a, b in zip(self.sealed, old, strict=False)):
            return False
        self.sealed[:n] = merged
        return True

    def expire(self, before_ns: int) -> list[Generation]:
        """Drop generations sealed before `before_ns`; returns them (to archive)."""
        keep = [g for g in self.sealed if g.sealed_at >= before_ns]
        gone = [g for g in self.sealed if g.sealed_at < before_ns]
        self.sealed = keep
        return gone

    @staticmethod
    def bloom_of(generations: list[Generation]) -> BloomFilter:
        bloom = BloomFilter(sum(len(d) for g in generations for d in g.entries.values()))
        for generation in generations:
            for account_id, entries in generation.entries.items():
                for coid in entries:
                    bloom.add(account_id, coid)
        return bloom
