"""Snapshot rows in SQL: a snapshot with the duplicate-check segments it references.

Every reader and writer of the `snapshots` table goes through here (the journal store, the
archive's base snapshot, verify and integrity), so a snapshot is never saved without its
segments nor loaded without them: `write_snapshot` stores the payload, its references
(`snapshot_segments`) and the segments the store does not hold yet, in the caller's
transaction, and refuses one whose references are not all held; `read_snapshot` returns it
with every segment it references; `prune_segments` drops segments no kept snapshot names.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, insert, select

from mcp_trading.adapters.store.schema import dedupe_segments, snapshot_segments, snapshots
from mcp_trading.kernel.ports import Snapshot

__all__ = ["missing_segments", "prune_segments", "read_snapshot", "write_snapshot"]

_IN = 500  # digests per IN (...) list: far under any driver's parameter limit


def write_snapshot(conn: Any, snapshot: Snapshot) -> None:
    """Save `snapshot` (replacing one at its seq) with its new segments; ValueError, and the
    caller's transaction to roll back, when a reference is neither stored nor new."""
    seq = snapshot.seq
    conn.execute(delete(snapshot_segments).where(snapshot_segments.c.seq == seq))
    conn.execute(delete(snapshots).where(snapshots.c.seq == seq))
    now = time.time_ns()
    conn.execute(insert(snapshots).values(seq=seq, created_at=now,
                                          payload=bytes(snapshot.payload)))
    refs = list(dict.fromkeys(snapshot.refs))
    if not refs:
        return
    conn.execute(insert(snapshot_segments), [{"seq": seq, "digest": d} for d in refs])
    wanted = set(refs)
    new = {d: body for d, body in snapshot.segments if d in wanted}
    held = _held(conn, list(new))
    rows = [{"digest": d, "created_at": now, "payload": bytes(body)}
            for d, body in new.items() if d not in held]
    if rows:
        conn.execute(insert(dedupe_segments), rows)
    missing = wanted - _held(conn, refs)
    if missing:
        raise ValueError(f"the snapshot at seq {seq} references {len(missing)} duplicate-check "
                         "segment(s) the store does not hold and it does not carry; nothing "
                         "was saved (take the snapshot again from the live state)")


def _held(conn: Any, digests: list[bytes]) -> set[bytes]:
    held: set[bytes] = set()
    d = dedupe_segments.c.digest
    for i in range(0, len(digests), _IN):
        held.update(bytes(x) for x in conn.execute(
            select(d).where(d.in_(digests[i:i + _IN]))).scalars())
    return held


def read_snapshot(conn: Any, *, upto: int | None = None) -> Snapshot | None:
    """The newest snapshot (at or below seq `upto`), with every segment it references."""
    query = select(snapshots.c.seq, snapshots.c.payload)
    if upto is not None:
        query = query.where(snapshots.c.seq <= upto)
    row = conn.execute(query.order_by(snapshots.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    seq = row[0]
    links = snapshot_segments.c
    segs = dedupe_segments.c
    found = conn.execute(select(segs.digest, segs.payload).join_from(
        snapshot_segments, dedupe_segments, links.digest == segs.digest).where(
        links.seq == seq)).all()
    # a reference whose segment is gone stays in refs: loading it then says which one
    refs = tuple(bytes(d) for d in conn.execute(select(links.digest).where(links.seq == seq))
                 .scalars())
    return Snapshot(seq, bytes(row[1]), tuple((bytes(d), bytes(p)) for d, p in found), refs)


def prune_segments(conn: Any) -> None:
    """Drop the references of snapshots that are gone, then segments nothing references."""
    conn.execute(delete(snapshot_segments).where(
        snapshot_segments.c.seq.not_in(select(snapshots.c.seq))))
    conn.execute(delete(dedupe_segments).where(
        dedupe_segments.c.digest.not_in(select(snapshot_segments.c.digest))))


def missing_segments(conn: Any) -> list[tuple[int, str]]:
    """(snapshot seq, segment digest in hex) of each reference whose segment is not held."""
    links, segs = snapshot_segments.c, dedupe_segments.c
    rows = conn.execute(select(links.seq, links.digest).join_from(
        snapshot_segments, dedupe_segments, links.digest == segs.digest, isouter=True).where(
        segs.digest.is_(None)).order_by(links.seq)).all()
    return [(int(seq), bytes(digest).hex()) for seq, digest in rows]
