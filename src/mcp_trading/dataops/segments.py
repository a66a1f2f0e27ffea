"""Journal segment files: the archived part of the journal, compressed and checksummed.

A segment holds journal records (as stored: seq, kind, ts, payload) of one contiguous range,
msgpack-encoded and zstd-compressed, in `<dir>/journal-<first>-<last>.seg.zst` (`first` is the
first *event* seq it holds, `last` its last record's seq). `<dir>/journal-index.json` lists
every segment with its size and sha256; `<dir>/SHA256SUMS` says the same for `sha256sum -c`.

A segment's states (the archive deletes hot rows only in the last one):

    absent     nothing on disk (a run that died before writing leaves at most a .tmp,
               which is never listed and is removed by the next run)
    written    renamed into place after an fsync, the directory fsynced, the file re-read,
               its checksum and every record compared with what was written
    indexed    listed in journal-index.json (rewritten atomically: tmp, fsync, rename)
    covering   the hot journal rows it holds may now be deleted; a run that dies after
               indexing and before the delete deletes them next time (the rows equal the
               segment's, checked before deleting)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from mcp_trading.domain.errors import ConflictError
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord, JournalStore

__all__ = [
    "INDEX_NAME",
    "SegmentError",
    "SegmentInfo",
    "archived_records",
    "first_event_seq",
    "full_journal",
    "load_index",
    "read_segment",
    "segment_problems",
    "write_segment",
]

INDEX_NAME = "journal-index.json"
_LEVEL = 3  # zstd (pyarrow's codec) level 3
_RECORDS = msgspec.msgpack.Decoder(list[tuple[int, int, int, bytes]])
_ENCODER = msgspec.msgpack.Encoder()


class SegmentError(ConflictError):
    """A segment file is missing, unreadable, or differs from its index entry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="ARCHIVE_SEGMENT_BAD")


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    file: str  # name inside the archive directory
    first_seq: int  # first event seq
    last_seq: int  # last record (and event) seq
    records: int
    bytes: int  # of the compressed file
    raw_bytes: int  # of the msgpack body (the codec needs it to decompress)
    sha256: str
    # event times (ns) of its first and last record, so a reader of one order's history
    # opens only the segments of its lifetime (None in an index written before they were)
    first_ts: int | None = None
    last_ts: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def first_event_seq(record: JournalRecord) -> int:
    """The seq of the first event a record holds (a group-commit segment holds several)."""
    if record.kind != codec.SEGMENT:
        return record.seq
    return next(codec.events([record]))[0]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def load_index(directory: Path) -> list[SegmentInfo]:
    """The segments listed in the index, oldest first (none when there is no index)."""
    path = directory / INDEX_NAME
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text())["segments"]
        return [SegmentInfo(**entry) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise SegmentError(f"{path} is not a segment index ({exc}); restore it from a backup"
                           ) from None


def _save_index(directory: Path, infos: list[SegmentInfo]) -> None:
    body = json.dumps({"segments": [i.as_dict() for i in infos]}, indent=1).encode()
    _write_durably(directory / INDEX_NAME, body)
    sums = "".join(f"{i.sha256}  {i.file}\n" for i in infos).encode()
    _write_durably(directory / "SHA256SUMS", sums)


def _decode(data: bytes, raw_bytes: int, name: str) -> list[JournalRecord]:
    try:
        raw = pa.Codec("zstd").decompress(data, decompressed_size=raw_bytes, asbytes=True)
        return [JournalRecord(*row) for row in _RECORDS.decode(raw)]
    except (pa.ArrowException, msgspec.DecodeError, ValueError) as exc:
        raise SegmentError(f"segment {name} cannot be read ({exc})") from None


def write_segment(directory: Path, records: list[JournalRecord]) -> SegmentInfo:
    """Write `records` as a segment, fsynced and re-read, and list it in the index."""
    if not records:
        raise ValueError("a segment needs at least one record")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.tmp"):  # a run that died mid-write
        stale.unlink()
    first, last = first_event_seq(records[0]), records[-1].seq
    name = f"journal-{first:012d}-{last:012d}.seg.zst"
    body = _ENCODER.encode([tuple(r) for r in records])
    data = pa.Codec("zstd", compression_level=_LEVEL).compress(body, asbytes=True)
    path = directory / name
    _write_durably(path, data)
    again = path.read_bytes()
    info = SegmentInfo(name, first, last, len(records), len(again), len(body),
                       hashlib.sha256(again).hexdigest(), records[0].ts, records[-1].ts)
    if again != data or _decode(again, len(body), name) != records:
        raise SegmentError(f"segment {name} read back differs from what was written; "
                           "the disk is not keeping writes: nothing was deleted")
    infos = [i for i in load_index(directory) if i.file != name]
    infos.append(info)
    infos.sort(key=lambda i: i.first_seq)
    _save_index(directory, infos)
    return info


def read_segment(directory: Path, info: SegmentInfo) -> list[JournalRecord]:
    """The records of one segment, after its size and sha256 are checked against the index."""
    path = directory / info.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SegmentError(f"segment {info.file} is missing or unreadable ({exc.strerror})"
                           ) from None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != info.bytes or digest != info.sha256:
        raise SegmentError(f"segment {info.file}: sha256 {digest[:16]}… size {len(data)}, "
                           f"index says {info.sha256[:16]}… size {info.bytes} (tampered or "
                           "damaged; restore the archive directory from a backup)")
    records = _decode(data, info.raw_bytes, info.file)
    if (len(records) != info.records or records[-1].seq != info.last_seq
            or first_event_seq(records[0]) != info.first_seq):
        raise SegmentError(f"segment {info.file} holds other records than its index entry")
    return records


def archived_records(directory: Path) -> Iterator[JournalRecord]:
    """Every archived record, oldest first, each segment checked as it is read."""
    for info in load_index(directory):
        yield from read_segment(directory, info)


def full_journal(directory: Path, store: JournalStore) -> Iterator[JournalRecord]:
    """The whole journal: the archived segments, then the hot records after them."""
    last = 0
    for record in archived_records(directory):
        last = record.seq
        yield record
    yield from store.read(after_seq=last)


def segment_problems(directory: Path) -> tuple[list[str], int, int]:
    """What is wrong with the segments (checksums, decoding, gaps between or inside them),
    the number of archived events, and the last archived seq."""
    problems: list[str] = []
    expected, events = 1, 0
    for info in load_index(directory):
        if info.first_seq != expected:
            problems.append(f"segments: gap before {info.file} (expected seq {expected})")
        try:
            records = read_segment(directory, info)
        except SegmentError as exc:
            problems.append(str(exc))
            expected = info.last_seq + 1
            continue
        gap = _inner_gap(records, info.first_seq)
        if gap is not None:
            problems.append(f"segment {info.file}: {gap}")
        events += info.last_seq - info.first_seq + 1
        expected = info.last_seq + 1
    return problems, events, expected - 1


def _inner_gap(records: Iterable[JournalRecord], first: int) -> str | None:
    expected = first
    for seq, _ in codec.events(records):
        if seq != expected:
            return f"events jump from {expected - 1} to {seq}"
        expected = seq + 1
    return None
