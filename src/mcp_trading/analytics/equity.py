"""The daily equity curve and exposure: fills, each day's closing marks and the starting cash.

Mark-to-market at each day's close:

- Day `i` closes at `days[i]` (ns since the epoch, increasing). A fill belongs to the first day
  whose close is at or after its `ts`; a fill after the last close is refused (the curve would
  not show it).
- Cash starts at `cash` and moves by each fill: a buy pays `qty × price + commission`, a sell
  receives `qty × price − commission`. Positions are signed quantities (short is negative).
- A position is marked at the symbol's close that day; a day without a close for it (NaN or
  None: a halt, a holiday of its exchange, a later listing) keeps the last close seen, or the
  last fill price if there is none yet.
- equity = cash + Σ qty × mark; gross exposure = Σ |qty × mark|; net = Σ qty × mark;
  traded = Σ qty × price of the day's fills.

The sums are done in Decimal (a close given as a float is read through its shortest repr, so
130.31 is 130.31) and the curve is stored as float64 arrays for the metrics and charts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from mcp_trading.analytics.trades import Fill, check_fill
from mcp_trading.domain.errors import InvalidError

__all__ = ["EquityCurve", "build_equity_curve", "day_text"]

_NEW_YORK = ZoneInfo("America/New_York")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Mark = Decimal | float | None
_ZERO = Decimal(0)


def day_text(ts: int) -> str:
    """The trading day of a ns timestamp, `YYYY-MM-DD`: its date in New York, the exchange's
    time zone (a daily bar's ts is midnight there, a day's last mark is before the next one;
    in UTC the mark of a day ending 23:59 New York would fall on the next date)."""
    return datetime.fromtimestamp(ts // 1_000_000_000, _NEW_YORK).date().isoformat()


def _floats(values: object, name: str, size: int) -> FloatArray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        raise InvalidError(f"{name} has shape {array.shape}; it must have one value per day "
                           f"({size})", field=name)
    return array


@dataclass(frozen=True, eq=False)
class EquityCurve:
    """One row per trading day at its close: `ts` (ns, increasing) and `equity`; optional
    `cash`, `gross_exposure`, `net_exposure` and `traded` (notional filled that day).

    `initial` is the equity before the first day (the starting cash of a backtest): when it
    is given the first day has a return against it; when it is None the first day is the
    base and the curve has one return fewer than days.
    """

    ts: IntArray
    equity: FloatArray
    initial: float | None = None
    cash: FloatArray | None = None
    gross_exposure: FloatArray | None = None
    net_exposure: FloatArray | None = None
    traded: FloatArray | None = None

    @classmethod
    def of(cls, ts: Sequence[int] | IntArray, equity: Sequence[float] | FloatArray, *,
           initial: float | None = None, cash: object = None, gross_exposure: object = None,
           net_exposure: object = None, traded: object = None) -> EquityCurve:
        """A checked curve from plain sequences or arrays (InvalidError naming the field)."""
        days = np.asarray(ts, dtype=np.int64)
        values = np.asarray(equity, dtype=np.float64)
        if days.ndim != 1 or values.shape != days.shape:
            raise InvalidError(f"ts and equity must be one-dimensional and of one length; got "
                               f"{days.shape} and {values.shape}", field="equity")
        if days.size > 1 and bool(np.any(np.diff(days) <= 0)):
            raise InvalidError("ts must be strictly increasing (one row per day)", field="ts")
        if not bool(np.all(np.isfinite(values))):
            raise InvalidError("equity holds NaN or infinity; every day needs a finite equity",
                               field="equity")
        if initial is not None and not math.isfinite(initial):
            raise InvalidError(f"initial is {initial}; it must be finite", field="initial")
        size = days.size
        return cls(ts=days, equity=values, initial=initial,
                   cash=_floats(cash, "cash", size),
                   gross_exposure=_floats(gross_exposure, "gross_exposure", size),
                   net_exposure=_floats(net_exposure, "net_exposure", size),
                   traded=_floats(traded, "traded", size))

    def __len__(self) -> int:
        return int(self.ts.size)

    def rows(self) -> list[dict[str, object]]:
        """JSON-ready rows (`GET /backtests/{id}/equity`): date, ts and each series to 1e-6."""
        extra = {"cash": self.cash, "gross_exposure": self.gross_exposure,
                 "net_exposure": self.net_exposure, "traded": self.traded}
        out: list[dict[str, object]] = []
        for i, ts in enumerate(self.ts.tolist()):
            row: dict[str, object] = {"date": day_text(ts), "ts": ts,
                                      "equity": round(float(self.equity[i]), 6)}
            for name, series in extra.items():
                if series is not None:
                    row[name] = round(float(series[i]), 6)
            out.append(row)
        return out


def _mark(value: Mark) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return Decimal(repr(float(value))) if math.isfinite(value) else None


class _Account:
    """Cash, signed positions and last marks while the days are walked."""

    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.positions: dict[str, Decimal] = {}
        self.marks: dict[str, Decimal] = {}

    def fill(self, fill: Fill) -> Decimal:
        notional = fill.qty * fill.price
        self.cash += -notional - fill.commission if fill.side == "buy" else notional - fill.commission
        qty = self.positions.get(fill.symbol, _ZERO) + fill.signed_qty
        if qty:
            self.positions[fill.symbol] = qty
        else:
            self.positions.pop(fill.symbol, None)
        self.marks.setdefault(fill.symbol, fill.price)
        return notional

    def close(self, closes: Mapping[str, Sequence[Mark]], day: int) -> tuple[Decimal, ...]:
        """(equity, cash, gross, net) at this day's close."""
        gross = net = _ZERO
        for symbol, qty in self.positions.items():
            series = closes.get(symbol)
            mark = _mark(series[day]) if series is not None else None
            if mark is not None:
                self.marks[symbol] = mark
            value = qty * self.marks[symbol]
            gross += abs(value)
            net += value
        return self.cash + net, self.cash, gross, net


def _check_inputs(days: Sequence[int], closes: Mapping[str, Sequence[Mark]], cash: Decimal) -> None:
    if not days:
        raise InvalidError("days is empty; an equity curve needs at least one day's close",
                           field="days")
    if any(b <= a for a, b in pairwise(days)):
        raise InvalidError("days must be strictly increasing close times", field="days")
    for symbol, series in closes.items():
        if len(series) != len(days):
            raise InvalidError(f"closes[{symbol!r}] has {len(series)} values for {len(days)} "
                               "days; give one per day (None where there is no bar)",
                               field="closes")
    if not cash.is_finite() or cash < 0:
        raise InvalidError(f"cash is {cash}; it must be >= 0", field="cash")


def build_equity_curve(fills: Iterable[Fill], days: Sequence[int],
                       closes: Mapping[str, Sequence[Mark]], cash: Decimal) -> EquityCurve:
    """The daily mark-to-market curve (rules: module doc); `initial` is `cash`."""
    days = [int(d) for d in days]
    _check_inputs(days, closes, cash)
    ordered = sorted(fills, key=lambda f: f.ts)
    for fill in ordered:
        check_fill(fill)
    if ordered and ordered[-1].ts > days[-1]:
        raise InvalidError(f"a fill at {ordered[-1].ts} ns is after the last day's close "
                           f"({days[-1]} ns); give the marks of every day with fills",
                           field="fills")
    account = _Account(cash)
    rows: list[tuple[Decimal, ...]] = []
    traded: list[Decimal] = []
    index = 0
    for day, close_ts in enumerate(days):
        notional = _ZERO
        while index < len(ordered) and ordered[index].ts <= close_ts:
            notional += account.fill(ordered[index])
            index += 1
        rows.append(account.close(closes, day))
        traded.append(notional)
    table = np.array([[float(v) for v in row] for row in rows], dtype=np.float64)
    return EquityCurve.of(days, table[:, 0], initial=float(cash), cash=table[:, 1],
                          gross_exposure=table[:, 2], net_exposure=table[:, 3],
                          traded=[float(v) for v in traded])
