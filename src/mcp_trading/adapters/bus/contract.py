"""Rules every EventBus backend enforces identically, and their shared constants."""

from __future__ import annotations

__all__ = ["LATEST_MAXLEN", "MAX_BLOCK_MS", "check_read", "next_id", "parse_id"]

LATEST_MAXLEN = 10_000  # updates a latest-value topic's stream keeps (Redis: approximately)
MAX_BLOCK_MS = 30_000  # longest blocking read; the Redis socket timeout is set above it


def check_read(count: int, block_ms: int, *, max_block_ms: int = MAX_BLOCK_MS) -> None:
    """Refuse a read whose size or wait is out of range, before touching the bus."""
    if count < 1:
        raise ValueError(f"count was {count}; must be >= 1")
    if not 0 <= block_ms <= max_block_ms:
        raise ValueError(f"block_ms was {block_ms}; must be between 0 (do not wait) and "
                         f"{max_block_ms}; loop over shorter reads to wait longer")


def parse_id(entry_id: str) -> tuple[int, int]:
    """A stream id ("<ms>-<seq>", or "<ms>" meaning "<ms>-0") as two ints, for comparing."""
    ms, _, seq = entry_id.partition("-")
    try:
        parsed = (int(ms), int(seq or 0))
    except ValueError:
        parsed = (-1, -1)
    if parsed[0] < 0 or parsed[1] < 0:
        raise ValueError(f"stream id was {entry_id!r}; must look like '1700000000000-0' or '0'")
    return parsed


def next_id(entry_id: str) -> str:
    """The smallest id after `entry_id` (Redis's MINID keeps ids >= it)."""
    ms, seq = parse_id(entry_id)
    return f"{ms}-{seq + 1}"
