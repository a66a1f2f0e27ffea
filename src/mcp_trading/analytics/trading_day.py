"""The daily trading report's figures, computed from plain rows (no I/O, no store).

Input (built by `mcp_trading.reports.trading_source` from the journal):

    DayRows.orders     every order created (accepted or rejected) in the day, at its status at
                       the end of the day
    DayRows.fills      every fill in the day, with the P&L it realised and the order's
                       arrival mid (None: not recorded)
    DayRows.controls   trading-state changes and maintenance switches in the day, in order
    DayRows.positions  positions at the end of the day, with their marks

Definitions (each stated again in the JSON's `definitions`):
- realised P&L: what fills netted against an open position realised (average cost, as the
  kernel books it), before commissions;
- unrealised P&L: end-of-day qty x (mark - average entry price);
- slippage against the arrival mid: per fill, side x (fill price - arrival mid) x qty, so a
  positive figure is a cost (bought above / sold below the mid when the order was accepted);
  in bps of the mid notional of the fills that have a mid.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mcp_trading.domain.numbers import to_text

__all__ = ["REPORT_NAME", "ControlRow", "DayRows", "FillRow", "OrderRow", "PositionRow",
           "trading_report"]

REPORT_NAME = "daily_trading"
SCHEMA_VERSION = 1
_ZERO = Decimal(0)
_BPS = Decimal(10_000)
_CENT = Decimal("0.01")
_MINUTE_NS = 60 * 10**9
_MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    account_id: str
    symbol: str
    side: str  # buy | sell
    status: str  # at the end of the day
    attribution: str | None
    reject_code: str | None = None
    reject_reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillRow:
    ts: int
    order_id: str
    account_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    commission: Decimal
    realized: Decimal  # the P&L this fill realised (before commission)
    arrival_mid: Decimal | None
    attribution: str | None


@dataclass(frozen=True, slots=True)
class ControlRow:
    ts: int
    kind: str  # trading_state | maintenance
    scope: str  # "platform" or the account id
    state: str  # a TradingState value, or "on" / "off" for maintenance
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class PositionRow:
    account_id: str
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    mark: Decimal | None
    mark_source: str  # bar | last_fill | none


@dataclass(slots=True)
class DayRows:
    day: str
    timezone: str
    start_ns: int
    end_ns: int
    trading_day: bool  # a session of the calendar
    orders: list[OrderRow] = field(default_factory=list)
    fills: list[FillRow] = field(default_factory=list)
    controls: list[ControlRow] = field(default_factory=list)
    positions: list[PositionRow] = field(default_factory=list)
    maintenance_at_start: str | None = None  # the reason, when maintenance was on at 00:00
    notes: list[str] = field(default_factory=list)


def _m(value: Decimal) -> str:
    return str(value.quantize(_CENT))


def _p(value: Decimal) -> str:
    return to_text(value.normalize()) if value else "0"


def _sign(side: str) -> int:
    return 1 if side == "buy" else -1


class _SymbolTotals:
    __slots__ = ("bought", "commission", "fills", "mid_notional", "notional", "realized",
                 "slippage", "sold", "without_mid")

    def __init__(self) -> None:
        self.fills = self.without_mid = 0
        self.bought = self.sold = self.notional = self.commission = _ZERO
        self.realized = self.slippage = self.mid_notional = _ZERO

    def add(self, f: FillRow) -> None:
        self.fills += 1
        if f.side == "buy":
            self.bought += f.qty
        else:
            self.sold += f.qty
        self.notional += f.qty * f.price
        self.commission += f.commission
        self.realized += f.realized
        if f.arrival_mid is None:
            self.without_mid += 1
        else:
            self.slippage += _sign(f.side) * (f.price - f.arrival_mid) * f.qty
            self.mid_notional += f.arrival_mid * f.qty


def _bps(slippage: Decimal, mid_notional: Decimal) -> str | None:
    return None if not mid_notional else str((slippage / mid_notional * _BPS).quantize(_CENT))


def _pnl_rows(rows: DayRows) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    by_key: dict[tuple[str, str], _SymbolTotals] = defaultdict(_SymbolTotals)
    for f in rows.fills:
        by_key[(f.account_id, f.symbol)].add(f)
    held = {(p.account_id, p.symbol): p for p in rows.positions}
    total = _SymbolTotals()
    unrealized_total = _ZERO
    out = []
    for key in sorted(set(by_key) | {k for k, p in held.items() if p.qty}):
        t = by_key.get(key) or _SymbolTotals()
        pos = held.get(key)
        qty = pos.qty if pos is not None else _ZERO
        unrealized = (qty * (pos.mark - pos.avg_entry_price)
                      if pos is not None and pos.mark is not None and qty else _ZERO)
        unrealized_total += unrealized
        for name in ("fills", "without_mid"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        for name in ("bought", "sold", "notional", "commission", "realized", "slippage",
                     "mid_notional"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        out.append({
            "account_id": key[0], "symbol": key[1], "fills": t.fills, "bought_qty": _p(t.bought),
            "sold_qty": _p(t.sold), "notional": _m(t.notional), "realized_pnl": _m(t.realized),
            "commissions": _m(t.commission), "net_realized_pnl": _m(t.realized - t.commission),
            "end_qty": _p(qty),
            "avg_entry_price": None if pos is None or not qty else _p(pos.avg_entry_price),
            "mark": None if pos is None or pos.mark is None or not qty else _p(pos.mark),
            "mark_source": pos.mark_source if pos is not None and qty else None,
            "unrealized_pnl": _m(unrealized), "slippage": _m(t.slippage),
            "slippage_bps": _bps(t.slippage, t.mid_notional), "fills_without_mid": t.without_mid})
    totals = {"fills": total.fills, "notional": _m(total.notional),
              "realized_pnl": _m(total.realized), "commissions": _m(total.commission),
              "net_realized_pnl": _m(total.realized - total.commission),
              "unrealized_pnl": _m(unrealized_total), "slippage": _m(total.slippage),
              "slippage_bps": _bps(total.slippage, total.mid_notional),
              "fills_without_mid": total.without_mid}
    return out, totals


def _rejections(orders: Sequence[OrderRow]) -> list[dict[str, Any]]:
    groups: dict[str, list[OrderRow]] = defaultdict(list)
    for o in orders:
        if o.status == "rejected":
            groups[o.reject_code or "UNKNOWN"].append(o)
    return [{"code": code, "count": len(rs),
             "symbols": sorted({r.symbol for r in rs}),
             "examples": [r.reject_reason or "" for r in rs[:_MAX_EXAMPLES]]}
            for code, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _who(attribution: str | None) -> tuple[str, str]:
    if not attribution:
        return "unattributed", "unattributed"
    kind, _, _rest = attribution.partition(":")
    return attribution, kind


def _traders(rows: DayRows) -> list[dict[str, Any]]:
    orders: Counter[str] = Counter(_who(o.attribution)[0] for o in rows.orders)
    fills: Counter[str] = Counter()
    notional: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    for f in rows.fills:
        who = _who(f.attribution)[0]
        fills[who] += 1
        notional[who] += f.qty * f.price
    return [{"attribution": who, "kind": _who(None if who == "unattributed" else who)[1],
             "orders": orders.get(who, 0), "fills": fills.get(who, 0),
             "notional": _m(notional.get(who, _ZERO))}
            for who in sorted(set(orders) | set(fills))]


def _maintenance_windows(rows: DayRows) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = []
    open_since: int | None = rows.start_ns if rows.maintenance_at_start is not None else None
    reason = rows.maintenance_at_start or ""
    for c in rows.controls:
        if c.kind != "maintenance":
            continue
        if c.state == "on" and open_since is None:
            open_since, reason = c.ts, c.reason
        elif c.state == "off" and open_since is not None:
            windows.append({"start_ns": open_since, "end_ns": c.ts, "reason": reason,
                            "ended_by": c.actor, "open_at_day_end": False})
            open_since = None
    if open_since is not None:
        windows.append({"start_ns": open_since, "end_ns": None, "reason": reason,
                        "ended_by": None, "open_at_day_end": True})
    return windows


def _curve(rows: DayRows) -> dict[str, list[Any]]:
    """Per minute with fills: cumulative net realised P&L, slippage and notional (charts)."""
    ts: list[int] = []
    pnl: list[str] = []
    slip: list[str] = []
    notional: list[str] = []
    cum_pnl = cum_slip = cum_notional = _ZERO
    bucket: int | None = None
    for f in sorted(rows.fills, key=lambda r: r.ts):
        minute = f.ts - f.ts % _MINUTE_NS
        if bucket is not None and minute != bucket:
            ts.append(bucket + _MINUTE_NS)
            pnl.append(_m(cum_pnl))
            slip.append(_m(cum_slip))
            notional.append(_m(cum_notional))
        bucket = minute
        cum_pnl += f.realized - f.commission
        cum_notional += f.qty * f.price
        if f.arrival_mid is not None:
            cum_slip += _sign(f.side) * (f.price - f.arrival_mid) * f.qty
    if bucket is not None:
        ts.append(bucket + _MINUTE_NS)
        pnl.append(_m(cum_pnl))
        slip.append(_m(cum_slip))
        notional.append(_m(cum_notional))
    return {"ts_ns": ts, "net_realized_pnl": pnl, "slippage": slip, "notional": notional}


DEFINITIONS = {
    "day": "a calendar day in the trading calendar's time zone, [00:00, 24:00) local time",
    "realized_pnl": "P&L realised by fills netted against an open position, average cost, "
                    "before commissions",
    "net_realized_pnl": "realized_pnl - commissions",
    "unrealized_pnl": "end-of-day qty x (mark - average entry price); the mark is the last "
                      "1-minute bar close of the day (mark_source=bar), else the last fill "
                      "price (last_fill)",
    "slippage": "per fill side x (fill price - arrival mid) x qty (buy +1, sell -1): positive "
                "is a cost; arrival mid = (bid + ask) / 2 when the kernel accepted the order",
    "slippage_bps": "slippage / sum(arrival mid x qty) x 10,000 over the fills with a mid",
}


def trading_report(rows: DayRows, *, generated_ns: int) -> dict[str, Any]:
    """The daily trading report as a JSON-ready document (schema: reports/schemas.py)."""
    statuses = Counter(o.status for o in rows.orders)
    pnl, totals = _pnl_rows(rows)
    halts = [{"ts_ns": c.ts, "scope": c.scope, "state": c.state, "reason": c.reason,
              "actor": c.actor} for c in rows.controls if c.kind == "trading_state"]
    maintenance = _maintenance_windows(rows)
    activity = bool(rows.orders or rows.fills or halts or maintenance)
    return {
        "report": REPORT_NAME, "schema_version": SCHEMA_VERSION, "date": rows.day,
        "timezone": rows.timezone, "window": {"start_ns": rows.start_ns, "end_ns": rows.end_ns},
        "trading_day": rows.trading_day, "generated_ns": generated_ns, "activity": activity,
        "summary": ("no trading activity on this day" if not activity else
                    f"{len(rows.orders)} orders, {totals['fills']} fills, net realised P&L "
                    f"{totals['net_realized_pnl']}"),
        "orders": {"total": len(rows.orders), "by_status": dict(sorted(statuses.items()))},
        "fills": {"count": totals["fills"], "notional": totals["notional"]},
        "totals": totals, "pnl_by_symbol": pnl, "rejections": _rejections(rows.orders),
        "halts": halts, "maintenance_windows": maintenance, "traders": _traders(rows),
        "intraday": _curve(rows), "definitions": DEFINITIONS, "notes": list(rows.notes),
    }
