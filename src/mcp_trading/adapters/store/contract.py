"""Rules every JournalStore backend enforces identically, and their shared constants."""

from __future__ import annotations

from mcp_trading.kernel.ports import JournalRecord, Snapshot

__all__ = ["KEEP_SNAPSHOTS", "READ_PAGE", "check_batch", "check_snapshot"]

KEEP_SNAPSHOTS = 3  # older snapshots are pruned when a newer one is saved
READ_PAGE = 5_000  # records fetched per page by `read`


def check_batch(records: list[JournalRecord], last_seq: int) -> int:
    """Return the batch's last seq; raise ValueError unless seqs rise strictly above last_seq."""
    for record in records:
        seq = record[0]
        if seq <= last_seq:
            raise ValueError(
                f"journal seq {seq} is not greater than the previous seq {last_seq}; "
                "sequence numbers must strictly increase (nothing from this batch was written)"
            )
        last_seq = seq
    return last_seq


def check_snapshot(snapshot: Snapshot, last_seq: int) -> None:
    """Refuse a snapshot that claims events the journal does not hold."""
    if not 0 <= snapshot.seq <= last_seq:
        raise ValueError(
            f"snapshot seq {snapshot.seq} is outside the journal (last seq {last_seq}); "
            "append the events it includes before saving it"
        )
