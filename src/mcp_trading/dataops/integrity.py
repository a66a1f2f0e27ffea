"""`mcp-trading verify`: the integrity of the stores, hot and archived, one named check each.

    journal-contiguity       the hot journal's events run on without a gap, from seq 1 or
                             from right after the archived segments (or a base snapshot)
    archive-segments         every segment's size and sha256 equal its index entry, it
                             decodes, and the segments run on without a gap
    projection-equals-replay orders (hot + archive tables), positions and accounts at the
                             projections' checkpoint equal the journal replayed to that seq
    positions-equal-fills    every position's quantity is the sum of its fills (hot + archive)
    cash-reconciled          every account's cash is its starting cash less what its fills
                             cost and their commissions; its commissions column their sum

Each check reads only, and answers a `CheckResult` (dataops.checks: name, ok, detail); these
differ from the backup's checks in reading the archive too (segments, `*_archive` tables). `verify` runs them
all; a check that cannot run (a database away) fails with the reason, never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import (
    accounts,
    dedupe_segments,
    fills,
    fills_archive,
    journal,
    orders,
    orders_archive,
    positions,
    projection_checkpoint,
    snapshots,
)
from mcp_trading.adapters.store.snapshot_rows import missing_segments, read_snapshot
from mcp_trading.dataops import segments
from mcp_trading.dataops.checks import CheckResult
from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.models import SlippageModel
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.kernel.state import KernelState

__all__ = ["CHECKS", "CheckResult", "Locations", "archive_segments", "cash_reconciled",
           "journal_contiguity", "positions_equal_fills", "projection_equals_replay",
           "snapshot_segments_held", "verify"]

_PAGE = 20_000
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Locations:
    """Where the journal, the projections and the archived segments are."""

    journal: str
    reports: str
    archive: Path
    slippage: SlippageModel = field(default_factory=SlippageModel)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _hot(engine: Engine, after: int = 0, upto: int | None = None) -> Iterator[JournalRecord]:
    j = journal.c
    while True:
        query = select(j.seq, j.kind, j.ts, j.payload).where(j.seq > after)
        if upto is not None:
            query = query.where(j.seq <= upto)
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(j.seq).limit(_PAGE)).all()
        yield from (JournalRecord(s, k, t, bytes(p)) for s, k, t, p in rows)
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


def _first_gap(records: Iterator[JournalRecord], first: int) -> tuple[int, str | None]:
    """(last seq seen, the first gap) of the events in `records`, expected from `first`."""
    expected = first
    for seq, _ in codec.events_of_kinds(records, 0, frozenset()):
        if seq != expected:
            return expected - 1, f"events jump from seq {expected - 1} to {seq}"
        expected = seq + 1
    return expected - 1, None


def journal_contiguity(where: Locations) -> CheckResult:
    name = "journal-contiguity"
    infos = segments.load_index(where.archive)
    archived = infos[-1].last_seq if infos else 0
    with _engine(where.journal) as engine:
        with engine.connect() as conn:
            low, count = conn.execute(select(func.min(journal.c.seq), func.count())).one()
            snaps = set(conn.execute(select(snapshots.c.seq)).scalars())
        if not count:
            return CheckResult(name, True, f"hot journal empty (archived up to {archived})")
        first = segments.first_event_seq(next(_hot(engine, low - 1, low)))
        if first > archived + 1 and (first - 1) not in snaps:
            return CheckResult(name, False, f"hot journal starts at seq {first}, archived "
                               f"segments end at {archived} and no snapshot covers "
                               f"{archived + 1}..{first - 1}")
        last, gap = _first_gap(_hot(engine), first)
    if gap is not None:
        return CheckResult(name, False, f"hot journal: {gap}")
    # an overlap (a restored backup older than the archive, or a run that died between a
    # segment and its delete) is no gap: the next `mcp-trading archive` removes it
    overlap = (f"; it still holds {first}..{archived}, archived too (the next archive run "
               "removes them)") if first <= archived else ""
    return CheckResult(name, True, f"seqs {first}..{last} contiguous"
                       + (f" after archived 1..{archived}" if archived else "") + overlap)


def snapshot_segments_held(where: Locations) -> CheckResult:
    """Every kept snapshot's duplicate-check segments are in the store (a restart loads them)."""
    name = "snapshot-segments"
    with _engine(where.journal) as engine, engine.connect() as conn:
        missing = missing_segments(conn)
        held = conn.execute(select(func.count()).select_from(dedupe_segments)).scalar_one()
    if missing:
        seq, digest = missing[0]
        return CheckResult(name, False, f"{len(missing)} duplicate-check segment(s) referenced "
                           f"by snapshots are missing (first: {digest} of the snapshot at seq "
                           f"{seq}); a restart from it fails: replay the journal")
    return CheckResult(name, True, f"{held} duplicate-check segment(s), every reference held")


def archive_segments(where: Locations) -> CheckResult:
    name = "archive-segments"
    try:
        problems, events, last = segments.segment_problems(where.archive)
    except segments.SegmentError as exc:
        return CheckResult(name, False, exc.message)
    if problems:
        return CheckResult(name, False, "; ".join(problems))
    if not events:
        return CheckResult(name, True, "no journal archived")
    count = len(segments.load_index(where.archive))
    return CheckResult(name, True, f"{count} segments, seqs 1..{last}, checksums equal")


def _replay(where: Locations, engine: Engine, upto: int) -> KernelState:
    """The state at `upto`: every archived segment then the hot journal (or, without
    segments, the base snapshot the hot journal starts after)."""
    infos = segments.load_index(where.archive)
    state = KernelState(default_instruments(), where.slippage)
    records: Iterator[JournalRecord] = iter(())
    done = 0
    if infos:
        records = segments.archived_records(where.archive)
        done = infos[-1].last_seq
    else:
        with engine.connect() as conn:
            low = conn.execute(select(func.min(journal.c.seq))).scalar() or 0
            base = read_snapshot(conn, upto=low - 1) if low > 1 else None
        if base is not None:
            state = snapshot_codec.load(base, default_instruments(), where.slippage)
            done = state.seq
    for seq, event in codec.events(records):
        if seq > upto:
            break
        state.apply(seq, event)
    for seq, event in codec.events(_hot(engine, done, upto), max(done, state.seq)):
        state.apply(seq, event)
    return state


def _rows(conn: Any, *tables: Any) -> Iterator[Any]:
    for table in tables:
        yield from conn.execute(select(table))


def projection_equals_replay(where: Locations) -> CheckResult:
    name = "projection-equals-replay"
    with _engine(where.reports) as reports, reports.connect() as conn:
        checkpoint = conn.execute(select(func.min(projection_checkpoint.c.seq))).scalar()
        if checkpoint is None:
            return CheckResult(name, True, "no projection yet (nothing to compare)")
        table = {r.id: (r.status, r.filled_qty) for r in _rows(conn, orders, orders_archive)}
        held = {(r.account_id, r.symbol): r.qty for r in _rows(conn, positions) if r.qty}
        money = {r.account_id: (r.cash, r.commissions) for r in _rows(conn, accounts)}
    with _engine(where.journal) as engine:
        state = _replay(where, engine, checkpoint)
    for order in state.orders.values():
        status = str(order.status)
        if table.get(order.id) != (status, order.filled_qty):
            return CheckResult(name, False, f"at seq {checkpoint}: order {order.id} is "
                               f"{status} filled {order.filled_qty} in the journal, "
                               f"{table.get(order.id) or 'absent'} in the tables")
    replayed = {(a.id, s): p.qty for a in state.accounts.values()
                for s, p in a.positions.items() if p.qty}
    for key in sorted(set(replayed) | set(held)):
        if replayed.get(key) != held.get(key):
            return CheckResult(name, False, f"at seq {checkpoint}: position {key[0]}/{key[1]} is "
                               f"{replayed.get(key)} in the journal, {held.get(key)} in the table")
    for account in state.accounts.values():
        if money.get(account.id) != (account.cash, account.commissions):
            return CheckResult(name, False, f"at seq {checkpoint}: account {account.id} cash/"
                               f"commissions {account.cash}/{account.commissions} in the journal, "
                               f"{money.get(account.id)} in the table")
    return CheckResult(name, True, f"at seq {checkpoint}: {len(state.orders)} orders, "
                       f"{len(replayed)} positions, {len(state.accounts)} accounts equal")


def _fill_sums(conn: Any) -> tuple[dict[tuple[str, str], Decimal], dict[str, Decimal],
                                   dict[str, Decimal]]:
    qty: dict[tuple[str, str], Decimal] = {}
    spent: dict[str, Decimal] = {}
    commissions: dict[str, Decimal] = {}
    for table in (fills, fills_archive):
        for r in conn.execute(select(table)).yield_per(_PAGE):
            signed = r.qty if r.side == "buy" else -r.qty
            key = (r.account_id, r.symbol)
            qty[key] = qty.get(key, _ZERO) + signed
            spent[r.account_id] = spent.get(r.account_id, _ZERO) + signed * r.price + r.commission
            commissions[r.account_id] = commissions.get(r.account_id, _ZERO) + r.commission
    return qty, spent, commissions


def positions_equal_fills(where: Locations) -> CheckResult:
    name = "positions-equal-fills"
    with _engine(where.reports) as reports, reports.connect() as conn:
        summed = {k: v for k, v in _fill_sums(conn)[0].items() if v}
        held = {(r.account_id, r.symbol): r.qty for r in _rows(conn, positions) if r.qty}
    for key in sorted(set(summed) | set(held)):
        if summed.get(key, _ZERO) != held.get(key, _ZERO):
            return CheckResult(name, False, f"position {key[0]}/{key[1]} is {held.get(key, 0)} "
                               f"but its fills sum to {summed.get(key, 0)}")
    return CheckResult(name, True, f"{len(held)} positions equal the sum of their fills")


def cash_reconciled(where: Locations) -> CheckResult:
    name = "cash-reconciled"
    with _engine(where.reports) as reports, reports.connect() as conn:
        _, spent, commissions = _fill_sums(conn)
        books = list(_rows(conn, accounts))
    for a in books:
        expected = a.start_cash - spent.get(a.account_id, _ZERO)
        if a.cash != expected:
            return CheckResult(name, False, f"account {a.account_id}: cash {a.cash}, but start "
                               f"{a.start_cash} less fills and commissions is {expected}")
        if a.commissions != commissions.get(a.account_id, _ZERO):
            return CheckResult(name, False, f"account {a.account_id}: commissions "
                               f"{a.commissions}, fills say {commissions.get(a.account_id, 0)}")
    return CheckResult(name, True, f"{len(books)} accounts reconcile with their fills")


CHECKS: dict[str, Callable[[Locations], CheckResult]] = {
    "journal-contiguity": journal_contiguity,
    "snapshot-segments": snapshot_segments_held,
    "archive-segments": archive_segments,
    "projection-equals-replay": projection_equals_replay,
    "positions-equal-fills": positions_equal_fills,
    "cash-reconciled": cash_reconciled,
}


def verify(where: Locations) -> list[CheckResult]:
    """Every check, in order; one that cannot run fails with why."""
    results = []
    for name, check in CHECKS.items():
        try:
            results.append(check(where))
        except (SQLAlchemyError, TradingError, OSError, ValueError, KeyError) as exc:
            results.append(CheckResult(name, False, f"could not run: {type(exc).__name__}: "
                                       f"{str(exc).splitlines()[0][:300] if str(exc) else ''}"))
    return results
