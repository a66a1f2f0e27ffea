"""The semantic checks of a store, shared by backup verification, restore and `verify`.

Every check takes database URLs (SQLite file or PostgreSQL), reads only, and returns a
`CheckResult` (name, ok, detail). The API is stable: `mcp_trading.dataops.integrity` builds on it.

    journal_contiguity(journal_url)                 seqs min..max with no gap; min is 1, or the
                                                    journal before min is covered by a snapshot
    state_digest(state) / live_digest(url, upto)    the canonical state at a seq: accounts
                                                    (cash, reserved, pnl, commissions,
                                                    positions) and working orders
    replay_state(journal_url, upto=None)            the kernel state folded from the journal
                                                    alone (no snapshot unless the journal
                                                    before it was archived)
    state_matches(journal_url, expected)            the fold equals an expected digest
    projection_matches_replay(reports_url, journal_url)
                                                    orders, positions and accounts tables at
                                                    their checkpoint equal the fold to that seq
    copy_checks(journal_url, reports_url, expected) all three on one fold (a restored copy)

"Live state at a seq" (the backup's reference): the live store's newest snapshot at or
below the seq, plus its journal up to the seq; the check folds the *copy* from scratch. Two
different paths (snapshot+tail of the original vs full replay of the copy) must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Engine, func, select

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import (
    accounts,
    journal,
    orders,
    positions,
    projection_checkpoint,
    snapshots,
)
from mcp_trading.adapters.store.snapshot_rows import read_snapshot
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.orders import WORKING
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.ports import JournalRecord, Snapshot
from mcp_trading.kernel.state import KernelState

__all__ = [
    "CheckResult",
    "copy_checks",
    "journal_contiguity",
    "journal_last_seq",
    "live_digest",
    "projection_matches_replay",
    "replay_state",
    "state_digest",
    "state_matches",
]

_PAGE = 20_000
_SEGMENT_HEADER = msgspec.msgpack.Decoder(tuple[int, list[msgspec.Raw]])


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def journal_last_seq(url: str) -> int:
    with _engine(url) as engine, engine.connect() as conn:
        seq: int = conn.execute(select(func.coalesce(func.max(journal.c.seq), 0))).scalar_one()
    return seq


def journal_contiguity(url: str) -> CheckResult:
    """The journal's event seqs run without a gap (segments unpacked), from 1 or from right
    after a kept snapshot (the earlier journal archived); each segment's seq is its last."""
    name = "journal-contiguity"
    with _engine(url) as engine, engine.connect() as conn:
        snap_seqs = set(conn.execute(select(snapshots.c.seq)).scalars())
        first: int | None = None
        last = 0
        count = 0
        for rec in _records(conn, 0):
            low, high = _record_span(rec)
            if first is None:
                first = low
            elif low != last + 1:
                return CheckResult(name, False, f"gap in the journal: seq {last} is followed "
                                   f"by seq {low} ({low - last - 1} events missing)")
            if high != rec.seq or high < low:
                return CheckResult(name, False, f"journal record {rec.seq} is malformed "
                                   f"(its events run {low}..{high})")
            last, count = high, count + high - low + 1
    if first is None:
        return CheckResult(name, True, "journal is empty")
    if first != 1 and (first - 1) not in snap_seqs:
        return CheckResult(name, False, f"journal starts at seq {first} but no snapshot at seq "
                           f"{first - 1} covers the events before it")
    return CheckResult(name, True, f"seqs {first}..{last} contiguous ({count} events)")


def _record_span(rec: JournalRecord) -> tuple[int, int]:
    """The first and last event seq a record holds (a segment's seq is its last event's)."""
    if rec.kind != codec.SEGMENT:
        return rec.seq, rec.seq
    first, body = _SEGMENT_HEADER.decode(rec.payload)
    return first, first + len(body) - 1


def _records(conn: Any, after: int) -> Iterator[JournalRecord]:
    """Records with seq > after, in pages (a segment past `after` may hold earlier events:
    callers skip those by event seq)."""
    while True:
        query = select(journal.c.seq, journal.c.kind, journal.c.ts, journal.c.payload).where(
            journal.c.seq > after)
        rows = conn.execute(query.order_by(journal.c.seq).limit(_PAGE)).all()
        for seq, kind, ts, payload in rows:
            yield JournalRecord(seq, kind, ts, bytes(payload))
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


def _fold(conn: Any, base: Snapshot | None, upto: int | None,
          instruments: dict[str, Instrument] | None) -> KernelState:
    known = dict(instruments) if instruments is not None else default_instruments()
    slippage = SlippageModel()
    state = (snapshot_codec.load(base, known, slippage) if base is not None
             else KernelState(known, slippage))
    _fold_on(conn, state, upto)
    return state


def _fold_on(conn: Any, state: KernelState, upto: int | None) -> None:
    """Apply the journal's events after `state.seq`, up to `upto` (None: to the end)."""
    for seq, event in codec.events(_records(conn, state.seq), state.seq):
        if upto is not None and seq > upto:
            break
        state.apply(seq, event)
    snapshot_codec.rebuild_books(state)


def _snapshot_at_or_below(conn: Any, seq: int) -> Snapshot | None:
    return read_snapshot(conn, upto=seq)


def replay_state(url: str, upto: int | None = None,
                 instruments: dict[str, Instrument] | None = None) -> KernelState:
    """The state folded from the journal alone, up to `upto` (default: its end). A snapshot
    is used only where the journal before it is gone (archived)."""
    with _engine(url) as engine, engine.connect() as conn:
        low = conn.execute(select(func.min(journal.c.seq))).scalar_one()
        base = None
        if low is not None and low > 1:
            base = _snapshot_at_or_below(conn, low - 1)
        return _fold(conn, base, upto, instruments)


def live_digest(url: str, upto: int, instruments: dict[str, Instrument] | None = None
                ) -> dict[str, Any]:
    """The digest of the state at seq `upto` as the live store has it: its newest snapshot
    at or below `upto`, then its journal up to `upto` (later appends are ignored)."""
    with _engine(url) as engine, engine.connect() as conn:
        return state_digest(_fold(conn, _snapshot_at_or_below(conn, upto), upto, instruments))


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value.normalize()) if value else "0"


def state_digest(state: KernelState) -> dict[str, Any]:
    """The canonical, JSON-ready state: seq, platform state, every account's money and
    non-zero positions, and every working order."""
    accts: dict[str, Any] = {}
    for account in state.accounts.values():
        accts[account.id] = {
            "cash": _dec(account.cash), "reserved": _dec(account.reserved),
            "realized_pnl": _dec(account.realized_pnl), "commissions": _dec(account.commissions),
            "trading_state": account.state.value,
            "positions": {sym: {"qty": _dec(p.qty), "avg_entry_price": _dec(p.avg_entry_price)}
                          for sym, p in sorted(account.positions.items()) if p.qty},
        }
    working = {o.id: {"status": o.status.value, "account": o.account_id, "symbol": o.symbol,
                      "qty": _dec(o.qty), "filled_qty": _dec(o.filled_qty)}
               for o in state.orders.values() if o.status in WORKING}
    return {"seq": state.seq, "platform_state": state.platform_state.value,
            "accounts": dict(sorted(accts.items())), "working_orders": dict(sorted(working.items()))}


def _diff(expected: dict[str, Any], actual: dict[str, Any], path: str = "") -> str | None:
    for key in sorted(set(expected) | set(actual)):
        where = f"{path}.{key}" if path else str(key)
        a, b = expected.get(key), actual.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _diff(a, b, where)
            if found:
                return found
        elif a != b:
            return f"{where}: expected {a!r}, found {b!r}"
    return None


def state_matches(url: str, expected: dict[str, Any],
                  instruments: dict[str, Instrument] | None = None) -> CheckResult:
    """The journal at `url`, folded up to the expected digest's seq, equals that digest."""
    name = "state-equals-snapshot"
    actual = state_digest(replay_state(url, int(expected["seq"]), instruments))
    difference = _diff(expected, actual)
    if difference:
        return CheckResult(name, False, f"replayed state differs at seq {expected['seq']}: "
                           f"{difference}")
    return CheckResult(name, True, f"replayed state at seq {expected['seq']} equals the "
                       f"snapshot ({len(actual['accounts'])} accounts, "
                       f"{len(actual['working_orders'])} working orders)")


def projection_matches_replay(reports_url: str, journal_url: str,
                              instruments: dict[str, Instrument] | None = None) -> CheckResult:
    """The projection tables at their checkpoint equal the journal folded to that seq."""
    name = "projection-equals-replay"
    checkpoint, proj_orders, proj_pos, proj_cash = _projection_tables(reports_url)
    state = replay_state(journal_url, checkpoint, instruments)
    problem = _projection_problem(state, proj_orders, proj_pos, proj_cash)
    if problem:
        return CheckResult(name, False, f"at checkpoint seq {checkpoint}: {problem}")
    return CheckResult(name, True, f"projection at seq {checkpoint} equals the replay "
                       f"({len(proj_orders)} orders, {len(proj_pos)} positions)")


def _projection_problem(state: KernelState, proj_orders: dict[str, tuple[str, Decimal]],
                        proj_pos: dict[tuple[str, str], Decimal],
                        proj_cash: dict[str, tuple[Decimal, Decimal]]) -> str | None:
    for order in state.orders.values():
        row = proj_orders.get(order.id)
        if row is None:
            return f"order {order.id} is in the journal but not in the orders table"
        status = order.status.value if order.status is not None else None
        if row != (status, order.filled_qty):
            return (f"order {order.id}: table has {row[0]} filled {row[1]}, journal has "
                    f"{status} filled {order.filled_qty}")
    replay_pos = {(a.id, sym): p.qty for a in state.accounts.values()
                  for sym, p in a.positions.items() if p.qty}
    if replay_pos != proj_pos:
        keys = sorted(set(replay_pos) ^ set(proj_pos)) or sorted(
            k for k in replay_pos if replay_pos[k] != proj_pos.get(k))
        key = keys[0]
        return (f"position {key[0]}/{key[1]}: table {proj_pos.get(key)}, journal "
                f"{replay_pos.get(key)}")
    for account in state.accounts.values():
        if proj_cash.get(account.id) != (account.cash, account.commissions):
            return (f"account {account.id}: table cash/commissions {proj_cash.get(account.id)}, "
                    f"journal {account.cash}/{account.commissions}")
    return None


def _projection_tables(reports_url: str) -> tuple[int, Any, Any, Any]:
    with _engine(reports_url) as engine, engine.connect() as conn:
        checkpoint: int = conn.execute(select(func.coalesce(func.max(
            projection_checkpoint.c.seq), 0))).scalar_one()
        proj_orders = {r.id: (r.status, r.filled_qty) for r in conn.execute(
            select(orders.c.id, orders.c.status, orders.c.filled_qty))}
        proj_pos = {(r.account_id, r.symbol): r.qty for r in conn.execute(
            select(positions.c.account_id, positions.c.symbol, positions.c.qty)) if r.qty}
        proj_cash = {r.account_id: (r.cash, r.commissions) for r in conn.execute(
            select(accounts.c.account_id, accounts.c.cash, accounts.c.commissions))}
    return checkpoint, proj_orders, proj_pos, proj_cash


def copy_checks(journal_url: str, reports_url: str | None, expected: dict[str, Any] | None,
                instruments: dict[str, Instrument] | None = None) -> list[CheckResult]:
    """Contiguity, projection = replay (when `reports_url`), state = `expected` (when given):
    the journal folded once, pausing at the projection's checkpoint."""
    results = [journal_contiguity(journal_url)]
    if not results[0].ok:
        return results
    tables = _projection_tables(reports_url) if reports_url is not None else None
    stops: list[tuple[int, str]] = []
    if tables is not None:
        stops.append((tables[0], "projection"))
    if expected is not None:
        stops.append((int(expected["seq"]), "state"))
    with _engine(journal_url) as engine, engine.connect() as conn:
        low = conn.execute(select(func.min(journal.c.seq))).scalar_one()
        base = _snapshot_at_or_below(conn, low - 1) if low is not None and low > 1 else None
        state = _fold(conn, base, 0, instruments)
        for seq, what in sorted(stops):
            _fold_on(conn, state, seq)
            if what == "projection" and tables is not None:
                results.append(_projection_result(state, tables))
            elif expected is not None:
                results.append(_state_result(state, expected))
    return results


def _projection_result(state: KernelState, tables: tuple[int, Any, Any, Any]) -> CheckResult:
    problem = _projection_problem(state, *tables[1:])
    if problem:
        return CheckResult("projection-equals-replay", False,
                           f"at checkpoint seq {tables[0]}: {problem}")
    return CheckResult("projection-equals-replay", True,
                       f"projection at seq {tables[0]} equals the replay ({len(tables[1])} "
                       f"orders, {len(tables[2])} positions)")


def _state_result(state: KernelState, expected: dict[str, Any]) -> CheckResult:
    difference = _diff(expected, state_digest(state))
    if difference:
        return CheckResult("state-equals-snapshot", False,
                           f"replayed state differs at seq {expected['seq']}: {difference}")
    return CheckResult("state-equals-snapshot", True,
                       f"replayed state at seq {expected['seq']} equals the live state's "
                       f"snapshot ({len(expected['accounts'])} accounts, "
                       f"{len(expected['working_orders'])} working orders)")
