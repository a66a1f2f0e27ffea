"""What an import did: `ImportSummary` (per file) and `SeriesSummary` (per symbol), and the
progress an import reports per batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["ImportProgress", "ImportSummary", "SeriesSummary", "bar_time_text"]

_NY = ZoneInfo("America/New_York")


def bar_time_text(ts: int, timeframe: str) -> str:
    """A bar's time for people: its New York date for a daily bar, else the instant (UTC)."""
    when = datetime.fromtimestamp(ts / 1e9, tz=UTC)
    if timeframe == "1Day":
        return when.astimezone(_NY).date().isoformat()
    return when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ImportProgress:
    file: str
    done: float  # fraction of the file read, 0..1
    bars: int  # bars read so far


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    symbol: str  # as stored (after a rename, see ImportSummary.renamed)
    bars: int
    first: int  # ts of the first bar
    last: int
    gaps: int | None  # NYSE sessions in [first, last] without a bar; None: not counted (intraday)
    gap_days: tuple[str, ...] = ()  # the first few missing sessions found
    off_calendar: int = 0  # daily bars on a day the NYSE did not trade


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """The outcome of one file's import (all of it is stored, or nothing and an error)."""

    file: str
    source: str
    timeframe: str
    layout: str  # long | single | alphavantage
    bars: int  # distinct bars in the file
    inserted: int
    updated: int  # bars that replaced different stored values
    unchanged: int  # bars already stored as they are (a re-import changes nothing)
    duplicates: int  # rows repeating another row exactly, stored once
    series: tuple[SeriesSummary, ...]
    renamed: dict[str, str] = field(default_factory=dict)  # the file's name -> the stored name
    registered: tuple[str, ...] = ()  # symbols registered as history-only instruments

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(s.symbol for s in self.series)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values (times as text and as ns)."""
        return {
            "file": self.file, "source": self.source, "timeframe": self.timeframe,
            "layout": self.layout, "symbols": list(self.symbols), "bars": self.bars,
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "duplicates": self.duplicates, "renamed": dict(self.renamed),
            "registered": list(self.registered),
            "series": [{"symbol": s.symbol, "bars": s.bars,
                        "first": bar_time_text(s.first, self.timeframe),
                        "last": bar_time_text(s.last, self.timeframe),
                        "first_ns": s.first, "last_ns": s.last, "gaps": s.gaps,
                        "gap_days": list(s.gap_days), "off_calendar": s.off_calendar}
                       for s in self.series],
        }
