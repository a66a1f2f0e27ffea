"""The daily trading report's rows, read from the store: the journal folded by a light fold
of the kernel's own transitions and position netting, plus the day's last bar closes as marks.

How: the newest snapshot at or below the day's first event, then every journal event up to
the first one at or after the day's end, folded by `day_fold.LightFold` (orders' statuses by
the kernel's transition table, positions and realised P&L by the kernel's `Position`; its
rows are proven equal to those of the full kernel replay, `day_replay.KernelReplay`, by
tests). Events inside the day are collected as they pass. The garbage collector is paused
during the fold (it allocates several tracked objects a fill and would rescan them: the read
took ~20 % longer with it on, medians of 3 alternated runs at 100,000 fills). Orders
accepted before the snapshot the fold starts from have no arrival mid known (their fills
count under `fills_without_mid`), nor do orders accepted before the kernel recorded it.
Internal accounts (ids starting with "_", the platform's self-test) are left out.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from mcp_trading.adapters.calendars import CalendarRangeError, NyseCalendar
from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import archive_horizons, bars, journal, snapshots
from mcp_trading.analytics.trading_day import DayRows, PositionRow
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.positions import Position
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.ports import JournalRecord, Snapshot
from mcp_trading.kernel.state import KernelState
from mcp_trading.reports.day_fold import DayFold, LightFold

__all__ = ["TIMEZONE", "archived_note", "base_state", "day_window", "journal_records", "parse_day",
           "read_day"]

TIMEZONE = "America/New_York"  # the NYSE calendar's (adapters/calendars.py)
_ZONE = ZoneInfo(TIMEZONE)
_PAGE = 5_000


def parse_day(text: str, *, today: date | None = None) -> date:
    """A report date: YYYY-MM-DD, not after today in New York. InvalidError otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidError(f"date {text!r} is not a date; give YYYY-MM-DD, e.g. "
                           f"{(today or _today()).isoformat()}", field="date") from None
    now = today or _today()
    if day > now:
        raise InvalidError(f"date {day} is in the future (today is {now} in {TIMEZONE}); a "
                           "report covers a day that has begun", field="date")
    return day


def _today() -> date:
    return datetime.now(_ZONE).date()


def day_window(day: date) -> tuple[int, int]:
    """[00:00, next 00:00) of `day` in New York, ns since the epoch (23 or 25 h at DST)."""
    start = datetime(day.year, day.month, day.day, tzinfo=_ZONE)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=_ZONE)
    return int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9


def _is_session(day: date, start_ns: int, end_ns: int) -> bool:
    try:
        session = NyseCalendar().session_at(start_ns)
    except CalendarRangeError:
        return day.weekday() < 5
    return session.day == day.isoformat() and session.open_ns < end_ns


def journal_records(conn: Connection, after: int) -> Iterator[JournalRecord]:
    while True:
        rows = conn.execute(select(journal.c.seq, journal.c.kind, journal.c.ts,
                                   journal.c.payload).where(journal.c.seq > after)
                            .order_by(journal.c.seq).limit(_PAGE)).all()
        for seq, kind, ts, payload in rows:
            yield JournalRecord(seq, kind, ts, bytes(payload))
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


def base_state(conn: Connection, start_ns: int) -> KernelState:
    """The state at the newest snapshot before the day (an empty one when there is none)."""
    known = default_instruments()
    slippage = SlippageModel()
    first = conn.execute(select(func.min(journal.c.seq)).where(journal.c.ts >= start_ns)
                         ).scalar()
    limit = (first - 1) if first is not None else conn.execute(
        select(func.max(journal.c.seq))).scalar() or 0
    row = conn.execute(select(snapshots.c.seq, snapshots.c.payload).where(
        snapshots.c.seq <= limit).order_by(snapshots.c.seq.desc()).limit(1)).first()
    if row is None:
        return KernelState(known, slippage)
    return snapshot_codec.load(Snapshot(row[0], bytes(row[1])), known, slippage)


def _marks(conn: Connection, rows: DayRows, symbols: set[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for symbol in sorted(symbols):
        close = conn.execute(select(bars.c.close).where(
            bars.c.symbol == symbol, bars.c.ts < rows.end_ns).order_by(bars.c.ts.desc())
            .limit(1)).scalar()
        if close is not None:
            out[symbol] = Decimal(close)
    return out


def _positions(conn: Connection, held: list[tuple[str, Position]], rows: DayRows) -> None:
    bar_marks = _marks(conn, rows, {p.symbol for _, p in held})
    last_fill = {f.symbol: f.price for f in sorted(rows.fills, key=lambda f: f.ts)}
    for account_id, p in held:
        mark, source = bar_marks.get(p.symbol), "bar"
        if mark is None:
            mark, source = last_fill.get(p.symbol), "last_fill"
        if mark is None:
            source = "none"
        rows.positions.append(PositionRow(account_id, p.symbol, p.qty, p.avg_entry_price,
                                          mark, source))
    if any(p.mark_source == "none" for p in rows.positions):
        rows.notes.append("positions without a bar or fill of the day have no mark: their "
                          "unrealised P&L is shown as 0")


def _fold(conn: Connection, folder: DayFold, end_ns: int) -> None:
    """Every event after the fold's start and before `end_ns` through `folder`."""
    paused = gc.isenabled()
    gc.disable()
    try:
        for seq, event in codec.events(journal_records(conn, folder.seq), folder.seq):
            if event.ts >= end_ns:
                break
            folder.apply(seq, event)
        folder.finish()
    finally:
        if paused:
            gc.enable()


def archived_note(conn: Connection, start_ns: int) -> str | None:
    """A day before the journal's archive horizon is folded from what the hot journal still
    holds: its events are in the archived segments, so a report of it says so (this text)."""
    h = archive_horizons.c
    horizon = conn.execute(select(h.before_ns, h.seq).where(h.name == "journal")).first()
    if horizon is None or not horizon.seq or start_ns >= horizon.before_ns:
        return None
    before = datetime.fromtimestamp(horizon.before_ns / 1e9, ZoneInfo("UTC")).date()
    return (f"the journal before {before.isoformat()} was archived (`mcp-trading archive`, "
            "<data_dir>/archive): this day's events there are not in this report; restore a "
            "backup from before the archive run to report on it")


def read_day(database_url: str, day: date,
             fold: Callable[[KernelState, DayRows], DayFold] = LightFold) -> DayRows:
    """The rows of `day` (see the module docstring) from the store at `database_url`;
    `fold` folds the events (`day_replay.KernelReplay` is the reference, for tests)."""
    start_ns, end_ns = day_window(day)
    rows = DayRows(day.isoformat(), TIMEZONE, start_ns, end_ns,
                   _is_session(day, start_ns, end_ns))
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as conn:
            folder = fold(base_state(conn, start_ns), rows)
            _fold(conn, folder, end_ns)
            _positions(conn, folder.held(), rows)
            note = archived_note(conn, start_ns)
            if note is not None:
                rows.notes.append(note)
    finally:
        engine.dispose()
    return rows
