"""An order's events that `mcp-trading archive` moved into the archived journal segments.

Segments are compressed, checksummed files of journal records (dataops/segments.py); their
index gives each one's seq range and event-time range, so one order's history opens only the
segments its lifetime overlaps (usually one) — each checked against its sha256 first.
"""

from __future__ import annotations

from pathlib import Path

from mcp_trading.dataops import segments
from mcp_trading.domain.events import Event
from mcp_trading.kernel import codec

__all__ = ["archived_events", "order_of"]

_SLACK_NS = 1_000_000_000  # a record's time is its group commit's, around its events'


def order_of(event: Event) -> str | None:
    order_id = getattr(event, "order_id", None)
    return order_id if isinstance(order_id, str) else None


def archived_events(directory: Path, order_id: str, created_ns: int, updated_ns: int,
                    before_seq: int | None) -> tuple[list[tuple[int, Event]], list[str]]:
    """The order's archived events (seq below `before_seq`, the first hot one) and the
    segment files read; SegmentError for a damaged segment, nothing when there is no index.
    An index entry without times (written before they were) is read whatever its time."""
    found: list[tuple[int, Event]] = []
    files = []
    for info in segments.load_index(directory):
        if before_seq is not None and info.first_seq >= before_seq:
            break
        if info.last_ts is not None and info.last_ts < created_ns - _SLACK_NS:
            continue
        if info.first_ts is not None and info.first_ts > updated_ns + _SLACK_NS:
            break
        files.append(info.file)
        found.extend((seq, event) for seq, event in codec.events(
            segments.read_segment(directory, info)) if order_of(event) == order_id
            and (before_seq is None or seq < before_seq))
    return found, files
