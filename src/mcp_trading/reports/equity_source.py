"""The equity history the reports rest on: the journal's `EquitySnapshotted` events, read
offline from the store (as `trading_source` reads the journal), or from any journal records.

    read_equity_snapshots(source, *, account_id=None, since_ns=None)
        source: an Engine, the Settings (their journal database) or a database URL
    equity_snapshots(records, *, account_id=None, since_ns=None)
        the same over JournalRecords (a store's `read()`, the in-memory store's too)

Both give the events in journal order (a day may hold several: a "close" one taken at the
session's close and any "manual" ones); `since_ns` keeps those whose `ts` is at or after it.
`last_per_day` picks, per account and day, the one an end-of-day series shows: the last
"close" snapshot, else the last "manual" one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import journal
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.events import EVENT_TYPES, EquitySnapshotted
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["EQUITY_KIND", "equity_snapshots", "last_per_day", "read_equity_snapshots"]

EQUITY_KIND = next(k for k, cls in EVENT_TYPES.items() if cls is EquitySnapshotted)
_KINDS = frozenset({EQUITY_KIND})
_PAGE = 5_000


class _HasDatabase(Protocol):
    @property
    def resolved_database_url(self) -> str: ...


def equity_snapshots(records: Iterable[JournalRecord], *, account_id: str | None = None,
                     since_ns: int | None = None, after_seq: int = 0
                     ) -> list[EquitySnapshotted]:
    """The EquitySnapshotted events in `records` (above `after_seq`), in order, of one
    account or all."""
    out: list[EquitySnapshotted] = []
    for _, event in codec.events_of_kinds(records, after_seq, _KINDS):
        if not isinstance(event, EquitySnapshotted):
            continue
        if account_id is not None and event.account_id != account_id:
            continue
        if since_ns is not None and event.ts < since_ns:
            continue
        out.append(event)
    return out


def _records(conn: Connection) -> Iterator[JournalRecord]:
    """Segments and single EquitySnapshotted records, in pages (other single kinds skipped)."""
    after = 0
    while True:
        rows = conn.execute(
            select(journal.c.seq, journal.c.kind, journal.c.ts, journal.c.payload)
            .where(journal.c.seq > after, journal.c.kind.in_((codec.SEGMENT, EQUITY_KIND)))
            .order_by(journal.c.seq).limit(_PAGE)).all()
        for seq, kind, ts, payload in rows:
            yield JournalRecord(seq, kind, ts, bytes(payload))
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


def read_equity_snapshots(source: Engine | _HasDatabase | str, *,
                          account_id: str | None = None,
                          since_ns: int | None = None) -> list[EquitySnapshotted]:
    """The EquitySnapshotted events of the journal in the store `source` names (an Engine,
    the Settings, or a SQLite/PostgreSQL URL), in journal order.

    A URL or Settings get an engine of their own, disposed of before the answer; a given
    Engine is left open. The in-memory store has no table to read: use `equity_snapshots`
    over its records.
    """
    if isinstance(source, Engine):
        with source.connect() as conn:
            return equity_snapshots(_records(conn), account_id=account_id, since_ns=since_ns)
    url = source if isinstance(source, str) else source.resolved_database_url
    if url.startswith("memory:"):
        raise InvalidError("the in-memory store keeps its journal in the platform's process; "
                           "read it with equity_snapshots(store.read())", field="database_url")
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return equity_snapshots(_records(conn), account_id=account_id, since_ns=since_ns)
    finally:
        engine.dispose()


def last_per_day(snapshots: Iterable[EquitySnapshotted]) -> list[EquitySnapshotted]:
    """Per (account, day) the last "close" snapshot, else the last one of any reason;
    sorted by account, then day."""
    best: dict[tuple[str, str], EquitySnapshotted] = {}
    for snap in snapshots:
        key = (snap.account_id, snap.day)
        held = best.get(key)
        if held is None or snap.reason == "close" or held.reason != "close":
            best[key] = snap
    return [best[key] for key in sorted(best)]
