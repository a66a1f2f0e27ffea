"""Archival: old rows out of the hot tables, the old journal into checksummed segment files.

Rows (closed orders, fills, feed-built bars; imported history only when named) move in
batches, each one transaction of INSERT … SELECT into the `*_archive` table and DELETE of
the same rows, checked to be the same count: a crash at any point leaves every row in
exactly one of the two tables, and re-running moves what is left. The journal moves behind a
*base snapshot* at the horizon seq H (written first, kept by the store's snapshot pruning
through `archive_horizons`): segments are written, fsynced and re-read (dataops.segments)
before the hot rows they hold are deleted, so recovery (latest snapshot + later journal)
never needs them, and a full replay reads segments then the hot journal.

A run's states: planned (counts only; `dry_run`) → rows moved, batch by batch → base
snapshot saved → segments written and hot journal rows deleted, segment by segment →
horizons recorded → alert lines out of alerts.log (dataops.archive_alerts). Any state is
a valid place to die; the next run finishes.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, delete, func, insert, inspect, select

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.history.sql_blocks import rebuild_symbol_blocks
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import upgrade
from mcp_trading.adapters.store.schema import (
    archive_horizons,
    bars,
    bars_archive,
    fills,
    fills_archive,
    history_bars,
    history_bars_archive,
    journal,
    orders,
    orders_archive,
    projection_checkpoint,
    snapshots,
)
from mcp_trading.adapters.store.snapshot_rows import read_snapshot, write_snapshot
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive_alerts import archive_alerts
from mcp_trading.domain.errors import ConflictError
from mcp_trading.domain.orders import TERMINAL
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.kernel.state import KernelState

__all__ = ["ArchiveReport", "Stores", "archive", "archive_dir", "horizon"]

BATCH = 5_000  # rows per transaction
SEGMENT_RECORDS = 50_000  # journal records per segment file
Progress = Callable[[str, int], None]


def archive_dir(settings: Settings) -> Path:
    return settings.data_dir / "archive"


@dataclass(frozen=True, slots=True)
class Stores:
    """The three databases archival touches (one and the same on PostgreSQL)."""

    journal: str
    reports: str
    history: str
    directory: Path

    @classmethod
    def of(cls, settings: Settings) -> Stores:
        return cls(settings.resolved_database_url, settings.resolved_reports_url,
                   settings.resolved_history_url, archive_dir(settings))


@dataclass(slots=True)
class ArchiveReport:
    before_ns: int
    dry_run: bool
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows moved (or to move)
    journal: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"before_ns": self.before_ns, "dry_run": self.dry_run, "rows": self.rows,
                "journal": self.journal}


@dataclass(frozen=True, slots=True)
class _Move:
    name: str
    hot: Table
    cold: Table
    key: Any  # the column batches are cut along
    where: tuple[ColumnElement[bool], ...]
    #: history: the symbol whose blocks (sql_blocks) each batch rebuilds in its transaction
    blocks_of: str | None = None
    before_ns: int = 0


def _moves(before_ns: int, history_symbols: list[str]) -> dict[str, list[_Move]]:
    closed = [s.value for s in TERMINAL]
    reports = [
        _Move("orders", orders, orders_archive, orders.c.updated_at,
              (orders.c.status.in_(closed), orders.c.updated_at < before_ns)),
        _Move("fills", fills, fills_archive, fills.c.seq, (fills.c.ts < before_ns,)),
    ]
    journal_db = [_Move("bars", bars, bars_archive, bars.c.ts, (bars.c.ts < before_ns,))]
    history = [_Move(f"history:{sym}", history_bars, history_bars_archive, history_bars.c.ts,
                     (history_bars.c.symbol == sym, history_bars.c.ts < before_ns),
                     blocks_of=sym, before_ns=before_ns)
               for sym in history_symbols]
    return {"reports": reports, "journal": journal_db, "history": history}


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _run_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".archive.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError("another archive run is in progress on this data directory; "
                                "wait for it to finish", code="ARCHIVE_RUNNING") from None
        yield


def _move_batch(engine: Engine, move: _Move, batch: int) -> int:
    """Move at most about `batch` rows in one transaction; return how many moved."""
    with engine.connect() as conn:
        edge = conn.execute(select(move.key).where(*move.where).order_by(move.key)
                            .offset(batch - 1).limit(1)).scalar()
    cond = move.where if edge is None else (*move.where, move.key <= edge)
    names = [c.name for c in move.hot.columns]
    # preserve_rowcount: psycopg reports INSERT … SELECT's count only when asked to
    with engine.execution_options(preserve_rowcount=True).begin() as conn:
        copied = conn.execute(insert(move.cold).from_select(
            names, select(*(move.hot.c[n] for n in names)).where(*cond))).rowcount
        deleted = conn.execute(delete(move.hot).where(*cond)).rowcount
        if copied != deleted:  # rolls the batch back: nothing half-moved
            raise ConflictError(f"{move.name}: copied {copied} rows but deleted {deleted} "
                                "(rows changed under the archive); run it again",
                                code="ARCHIVE_RACE")
        if move.blocks_of is not None and deleted:
            upto = move.before_ns - 1 if edge is None else min(int(edge), move.before_ns - 1)
            rebuild_symbol_blocks(engine.dialect.name, conn.connection.driver_connection,
                                  move.blocks_of, upto)
    return int(deleted)


def _count(engine: Engine, move: _Move) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(move.hot)
                                .where(*move.where)).scalar_one())


def _set_horizon(engine: Engine, name: str, before_ns: int, seq: int | None = None) -> None:
    h = archive_horizons.c
    with engine.begin() as conn:
        old = conn.execute(select(h.before_ns).where(h.name == name)).scalar()
        conn.execute(delete(archive_horizons).where(h.name == name))
        conn.execute(insert(archive_horizons).values(
            name=name, before_ns=max(before_ns, old or 0), seq=seq, updated_at=time.time_ns()))


def horizon(url: str, name: str) -> tuple[int, int | None] | None:
    """(before_ns, seq) of what archival moved of `name`, or None when nothing was."""
    h = archive_horizons.c
    with _engine(url) as engine, engine.connect() as conn:
        row = conn.execute(select(h.before_ns, h.seq).where(h.name == name)).first()
    return None if row is None else (int(row[0]), row[1])


def _missing(url: str) -> bool:
    """A SQLite store not created yet (a dry run must not create the file)."""
    return url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()


def _move_rows(url: str, moves: list[_Move], report: ArchiveReport, batch: int,
               progress: Progress | None) -> None:
    if report.dry_run and _missing(url):
        report.rows.update({move.name: 0 for move in moves})
        return
    with _engine(url) as engine:
        tables = set(inspect(engine).get_table_names())
        for move in moves:
            if report.dry_run:
                report.rows[move.name] = _count(engine, move) if move.hot.name in tables else 0
                continue
            total = 0
            while (moved := _move_batch(engine, move, batch)) > 0:
                total += moved
                if progress is not None:
                    progress(move.name, total)
            report.rows[move.name] = total
            _set_horizon(engine, move.name, report.before_ns)


# ---- the journal ---------------------------------------------------------------------------

def _journal_target(engine: Engine, reports: Engine, before_ns: int) -> tuple[int, int, str]:
    """(first hot seq, horizon H, why H is where it is): records up to H may be archived."""
    with reports.connect() as conn:
        checkpoint = conn.execute(select(func.min(projection_checkpoint.c.seq))).scalar()
    with engine.connect() as conn:
        low, high = conn.execute(select(func.min(journal.c.seq), func.max(journal.c.seq))).one()
        low = low or 0
        if checkpoint is None:
            return low, 0, "no projector has run: the projections still need the whole journal"
        # the newest record always stays hot: the store's last seq is read from it
        target = conn.execute(select(func.max(journal.c.seq)).where(
            journal.c.ts < before_ns, journal.c.seq <= checkpoint,
            journal.c.seq < (high or 0))).scalar() or 0
    why = (f"last record before the date, within the projections' checkpoint {checkpoint}"
           if target else "no journal record is older than the date and projected")
    return low, target, why


def _fold_to(conn: Any, upto: int, settings: Settings) -> KernelState:
    """The kernel state at seq `upto`: the newest snapshot at or below it, then the journal."""
    slippage = settings.kernel_config().slippage
    base = read_snapshot(conn, upto=upto)
    state = (snapshot_codec.load(base, default_instruments(), slippage)
             if base is not None else KernelState(default_instruments(), slippage))
    records = _hot_records(conn, state.seq, upto, None)
    for seq, event in codec.events(records, state.seq):
        state.apply(seq, event)
    return state


def _hot_records(conn: Any, after: int, upto: int, limit: int | None) -> list[JournalRecord]:
    j = journal.c
    query = select(j.seq, j.kind, j.ts, j.payload).where(j.seq > after, j.seq <= upto
                                                         ).order_by(j.seq)
    if limit is not None:
        query = query.limit(limit)
    return [JournalRecord(s, k, t, bytes(p)) for s, k, t, p in conn.execute(query)]


def _save_base(engine: Engine, target: int, before_ns: int, settings: Settings) -> None:
    """The snapshot at H that recovery and a full replay start from once the journal before
    it is gone; recorded in archive_horizons (which keeps it from being pruned)."""
    with engine.connect() as conn:
        have = conn.execute(select(snapshots.c.seq).where(snapshots.c.seq == target)).scalar()
        state = None if have is not None else _fold_to(conn, target, settings)
    with engine.begin() as conn:
        if state is not None:
            # like the kernel's own snapshots: closed orders the projections hold are left
            # to them (only their duplicate-check entries stay)
            state.release(target)
            write_snapshot(conn, snapshot_codec.dump(state))
        h = archive_horizons.c
        conn.execute(delete(archive_horizons).where(h.name == "journal"))
        conn.execute(insert(archive_horizons).values(name="journal", before_ns=before_ns,
                                                     seq=target, updated_at=time.time_ns()))


def _delete_hot(engine: Engine, info: segments.SegmentInfo, records: list[JournalRecord],
                base: int) -> int:
    """Delete the hot rows a written segment holds, once they equal its records."""
    with engine.begin() as conn:
        if conn.execute(select(snapshots.c.seq).where(snapshots.c.seq == base)).scalar() is None:
            raise ConflictError(f"the base snapshot at seq {base} is gone; run the archive "
                                "again (it writes a new one)", code="ARCHIVE_RACE")
        hot = _hot_records(conn, info.first_seq - 1, info.last_seq, None)
        held = {r.seq: r for r in records}
        if any(held.get(r.seq) != r for r in hot):
            raise ConflictError(f"hot journal rows in {info.first_seq}..{info.last_seq} differ "
                                f"from segment {info.file}; nothing deleted", code="ARCHIVE_RACE")
        return int(conn.execute(delete(journal).where(journal.c.seq <= info.last_seq)).rowcount)


def _archive_journal(stores: Stores, settings: Settings, report: ArchiveReport,
                     per_segment: int, progress: Progress | None) -> None:
    directory = stores.directory
    if report.dry_run and (_missing(stores.journal) or _missing(stores.reports)):
        report.journal = {"hot_from": 0, "archived_upto": 0, "target": 0, "records": 0,
                          "why": "the platform has not run here yet", "segments": []}
        return
    with _engine(stores.journal) as engine, _engine(stores.reports) as reports:
        low, target, why = _journal_target(engine, reports, report.before_ns)
        infos = segments.load_index(directory)
        done = infos[-1].last_seq if infos else 0
        report.journal = {"hot_from": low, "archived_upto": done, "target": target, "why": why,
                          "records": 0, "segments": []}
        if report.dry_run:
            with engine.connect() as conn:
                report.journal["records"] = int(conn.execute(select(func.count()).where(
                    journal.c.seq > done, journal.c.seq <= target)).scalar_one())
            return
        unfinished = bool(infos) and low <= done  # died between a segment and its delete
        if target <= done and not unfinished:
            if done:
                report.journal["why"] = f"the journal before the date is archived (up to {done})"
            return
        base = max(target, done)
        _save_base(engine, base, report.before_ns, settings)
        # hot rows a segment already holds: a run that died before its delete, or a backup
        # restored from before the archive; each compared with its segment, then deleted
        for info in (i for i in infos if unfinished and i.last_seq >= low):
            report.journal["records"] += _delete_hot(
                engine, info, segments.read_segment(directory, info), base)
        while done < target:
            with engine.connect() as conn:
                chunk = _hot_records(conn, done, target, per_segment)
            if not chunk or segments.first_event_seq(chunk[0]) != done + 1:
                raise ConflictError(f"the hot journal does not continue the archive at seq "
                                    f"{done + 1}; run `mcp-trading verify`", code="ARCHIVE_GAP")
            info = segments.write_segment(directory, chunk)
            report.journal["records"] += _delete_hot(engine, info, chunk, base)
            report.journal["segments"].append(info.file)
            done = info.last_seq
            if progress is not None:
                progress("journal", done)
        report.journal["archived_upto"] = done


def archive(settings: Settings, before_ns: int, *, dry_run: bool = False,
            history_symbols: list[str] | None = None, batch: int = BATCH,
            segment_records: int = SEGMENT_RECORDS, progress: Progress | None = None
            ) -> ArchiveReport:
    """Move what is older than `before_ns` to the archive (or count it, with dry_run)."""
    from mcp_trading.dataops.swap import finish_swap

    finish_swap(settings)
    stores = Stores.of(settings)
    report = ArchiveReport(before_ns, dry_run)
    moves = _moves(before_ns, sorted({s.upper() for s in history_symbols or []}))
    with _run_lock(stores.directory):
        if not dry_run:
            for url in {stores.journal, stores.reports, stores.history}:
                upgrade(url)
        _move_rows(stores.reports, moves["reports"], report, batch, progress)
        _move_rows(stores.journal, moves["journal"], report, batch, progress)
        if moves["history"]:
            _move_rows(stores.history, moves["history"], report, batch, progress)
        _archive_journal(stores, settings, report, segment_records, progress)
        report.rows["alerts"] = archive_alerts(settings.resolved_log_dir / "alerts.log",
                                               stores.directory, before_ns, dry_run=dry_run)
    return report
