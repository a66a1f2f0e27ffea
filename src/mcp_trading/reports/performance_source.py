"""The performance summary's input, read offline from the store: each account's daily equity
history.

- **Inception**: the account's `AccountOpened` cash at its ts. When the journal no longer
  holds it (archived), the account's starting cash as the kernel state knows it, dated at the
  first snapshot (a note says so).
- **Days**: the journaled `EquitySnapshotted` valuations (kind 17), the last one of each
  trading day (`day`, New York), a "close" one preferred to a "manual" one.
- **Today**: when the report's day is today and has no snapshot yet, today's valuation from
  the journal fold at the report time (`risk_source.read_risk_day`: the kernel's own state
  machine, positions marked at the platform's last bar close, else the last fill), marked
  `source: "journal_fold"`. A past day without a snapshot has no point of its own.

Internal accounts (ids starting with "_", the platform's self-test) are left out. The
snapshots are read by `reports.equity_source.read_equity_snapshots` (the reader the portfolio
service's equity history shares).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.events import EVENT_TYPES, AccountOpened, EquitySnapshotted
from mcp_trading.kernel import codec
from mcp_trading.reports.equity_source import last_per_day, read_equity_snapshots
from mcp_trading.reports.risk_source import read_risk_day
from mcp_trading.reports.trading_source import TIMEZONE, journal_records

__all__ = ["AccountHistory", "Point", "noon_ns", "read_histories"]

_ZONE = ZoneInfo(TIMEZONE)
_OPENED = frozenset(k for k, kind in EVENT_TYPES.items() if kind is AccountOpened)


@dataclass(frozen=True, slots=True)
class Point:
    """One account's equity at the end of one trading day."""

    day: str
    ts: int
    equity: Decimal
    cash: Decimal
    gross: Decimal  # sum of |qty x mark|
    net: Decimal  # sum of qty x mark
    source: str  # "close", "manual" (snapshots) or "journal_fold"


@dataclass(slots=True)
class AccountHistory:
    account_id: str
    currency: str
    initial: Decimal  # the inception equity (AccountOpened cash)
    opened_day: str | None  # the inception date (New York); None when unknown
    points: list[Point] = field(default_factory=list)  # one per day, ascending, <= the day


def noon_ns(day: str) -> int:
    """12:00 New York of an ISO date, ns: the one time stamp a day's point is plotted at."""
    d = date.fromisoformat(day)
    return int(datetime(d.year, d.month, d.day, 12, tzinfo=_ZONE).timestamp()) * 10**9


def _day_of(ts: int) -> str:
    return datetime.fromtimestamp(ts // 10**9, _ZONE).date().isoformat()


def _openings(engine: Engine) -> dict[str, AccountOpened]:
    with engine.connect() as conn:
        return {e.account_id: e for _, e in codec.events_of_kinds(journal_records(conn, 0), 0,
                                                                  _OPENED)
                if isinstance(e, AccountOpened) and not e.internal}


def _point(snap: EquitySnapshotted) -> Point:
    gross = sum((abs(q * m) for _, q, m in snap.positions), Decimal(0))
    net = sum((q * m for _, q, m in snap.positions), Decimal(0))
    return Point(snap.day, snap.ts, snap.equity, snap.cash, gross, net, snap.reason)


def _daily(snaps: list[EquitySnapshotted], until: str) -> list[Point]:
    """The last snapshot of each day up to `until`, a "close" one preferred (one account's)."""
    return [_point(snap) for snap in last_per_day(s for s in snaps if s.day <= until)]


def _history(account_id: str, opened: AccountOpened | None, account: Account | None,
             points: list[Point], notes: list[str]) -> AccountHistory | None:
    if opened is not None:
        return AccountHistory(account_id, opened.currency, opened.cash, _day_of(opened.ts),
                              points)
    if account is None:
        return None
    notes.append(f"{account_id}: its opening is no longer in the journal (archived): "
                 "inception is its starting cash, dated at its first snapshot")
    return AccountHistory(account_id, account.currency, account.start_cash, None, points)


def read_histories(database_url: str, day: date, *, today: date, now_ns: int
                   ) -> tuple[list[AccountHistory], list[str]]:
    """Every account's equity history up to `day` (module doc), and notes."""
    engine = create_store_engine(database_url)
    try:
        snaps = read_equity_snapshots(engine)
        opened = _openings(engine)
    finally:
        engine.dispose()
    # the fold: currency and starting cash of accounts whose opening is archived, today's value
    folded = {a.id: a for a in read_risk_day(database_url, day).accounts}
    by_account: dict[str, list[EquitySnapshotted]] = defaultdict(list)
    for snap in snaps:
        if not snap.account_id.startswith("_"):
            by_account[snap.account_id].append(snap)
    notes: list[str] = []
    out = []
    key = day.isoformat()
    for account_id in sorted(set(opened) | set(by_account) | set(folded)):
        event, account = opened.get(account_id), folded.get(account_id)
        if event is not None and _day_of(event.ts) > key:
            continue  # opened after the report's day
        history = _history(account_id, event, account,
                           _daily(by_account.get(account_id, []), key), notes)
        if history is None:
            continue
        points = history.points
        if day == today and account is not None and (not points or points[-1].day != key):
            points.append(Point(key, now_ns, account.equity, account.cash, account.gross_value,
                                account.position_value, "journal_fold"))
        out.append(history)
    return out, notes
