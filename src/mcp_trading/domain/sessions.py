"""Trading sessions: when the venue matches and when day orders expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol

__all__ = ["AlwaysOpen", "Session", "SessionCalendar"]

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS


class Session(NamedTuple):
    day: str  # ISO date naming the session
    open_ns: int
    close_ns: int


class SessionCalendar(Protocol):
    """The session that is open at `ts`, or else the next one to open."""

    name: str

    def session_at(self, ts: int) -> Session: ...


class AlwaysOpen:
    """Open around the clock; a session is one UTC calendar day, so day orders expire at 00:00 UTC."""

    name = "always_open"

    def session_at(self, ts: int) -> Session:
        start = ts - ts % _DAY_NS
        day = datetime.fromtimestamp(start / _NS, tz=UTC).date()
        return Session(day.isoformat(), start, start + _DAY_NS)

    @staticmethod
    def next_day(day: str) -> str:
        return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
