"""The optimizer's prices: daily closes from the history bar store, or inline.

Stored history is read with `read_bars(..., "1Day", adjustment="all")` — closes adjusted for
splits and dividends where the store holds an adjustment factor (the shipped sample does);
a symbol without one is used raw and the answer says so. The symbols' closes are aligned on
the days every symbol has (an inner join); days dropped by the join are counted in a note.

Refusals (422, naming the field and the fix): a symbol with no stored history at all
(`symbols`, with the stored symbols), a symbol without daily bars in [start, end] (`start`,
with what is stored), fewer than 3 common days, inline tables of unequal lengths.
Blocking: call from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.reads import read_bars
from mcp_trading.analytics.equity import day_text
from mcp_trading.backtest.spec import day_bounds_ns
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["Closes", "inline_table", "parse_day", "stored_closes"]

Array = npt.NDArray[np.float64]
MIN_DAYS = 3


@dataclass(frozen=True, slots=True)
class Closes:
    """Aligned closes (T, N), oldest first, or periodic returns when `is_returns`."""

    symbols: tuple[str, ...]
    table: Array
    days: tuple[str, ...] = ()          # YYYY-MM-DD of each row (stored history only)
    ts: npt.NDArray[np.int64] | None = None  # each row's bar ts, ns (stored history only)
    benchmark: Array | None = None      # the benchmark's closes on the same days
    is_returns: bool = False
    notes: tuple[str, ...] = field(default=())
    sources: dict[str, str] = field(default_factory=dict)


def parse_day(name: str, raw: str | None) -> date:
    if raw is None or not raw:
        raise InvalidError(f"{name}: is required with symbols (YYYY-MM-DD)",
                           code="INVALID_OPTIMIZATION", field=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidError(f"{name}: {raw!r} is not a date; use YYYY-MM-DD",
                           code="INVALID_OPTIMIZATION", field=name) from None


def _stored_text(history: HistoryStore, symbol: str) -> str:
    series = list(history.series(symbol))
    if not series:
        return "nothing is stored"
    return "; ".join(f"{s.source} {s.timeframe} {day_text(s.first)}..{day_text(s.last)}"
                     for s in series)


def _read_one(history: HistoryStore, symbol: str, lo: int, hi: int, *, source: str | None,
              what: str) -> tuple[npt.NDArray[np.int64], Array, str, bool]:
    if not history.series(symbol):
        known = sorted({s.symbol for s in history.series()})
        raise InvalidError(
            f"{what}: {symbol} has no stored history; stored symbols: "
            f"{', '.join(known) or 'none'} (import it: mcp-trading data import)",
            code="UNKNOWN_SYMBOL", field=what, extra={"symbol": symbol, "stored": known})
    try:
        read = read_bars(history, symbol, "1Day", start=lo, end=hi, limit=None,
                         adjustment="all", source=source)
    except NotFoundError as exc:  # a source that holds none of it: the request's fault
        raise InvalidError(exc.message, code="UNKNOWN_SOURCE", field="source",
                           extra=exc.extra) from None
    if read is None or read.columns.size == 0:
        raise InvalidError(
            f"start: no daily bars of {symbol} between {day_text(lo)} and {day_text(hi)}; "
            f"stored: {_stored_text(history, symbol)}. Choose a range that has bars",
            code="NO_HISTORY", field="start", extra={"symbol": symbol})
    cols = read.columns
    return np.asarray(cols.ts, dtype=np.int64), np.asarray(cols.close, dtype=np.float64), \
        read.source, read.adjusted


def stored_closes(history: HistoryStore, symbols: list[str], start: str | None,
                  end: str | None, *, source: str | None = None,
                  benchmark: str | None = None) -> Closes:
    """Adjusted daily closes of `symbols` (and the benchmark) on their common days."""
    first, last = parse_day("start", start), parse_day("end", end)
    if first > last:
        raise InvalidError(f"start: {first} is after end {last}; start must be on or before "
                           "end", code="INVALID_OPTIMIZATION", field="start")
    names = _symbols(symbols)
    lo, hi = day_bounds_ns(first, last)
    wanted = [*names, *([benchmark.strip().upper()] if benchmark else [])]
    reads = [_read_one(history, s, lo, hi, source=source,
                       what="symbols" if i < len(names) else "benchmark")
             for i, s in enumerate(wanted)]
    common = reads[0][0]
    for ts, *_ in reads[1:]:
        common = np.intersect1d(common, ts, assume_unique=True)
    if common.size < MIN_DAYS:
        raise InvalidError(f"start: the symbols have {common.size} trading days in common "
                           f"between {first} and {last}; at least {MIN_DAYS} are needed "
                           "(widen the range, or drop the symbol with the shortest history)",
                           code="NO_HISTORY", field="start")
    columns = [closes[np.searchsorted(ts, common)] for ts, closes, _, _ in reads]
    notes = [f"closes adjusted for splits and dividends where the store holds the factor; "
             f"{common.size} common trading days {day_text(int(common[0]))}.."
             f"{day_text(int(common[-1]))}"]
    raw = [s for s, r in zip(wanted, reads, strict=True) if not r[3]]
    if raw:
        notes.append(f"no adjustment factor is stored for {', '.join(raw)}: raw closes used")
    dropped = max(r[0].size for r in reads) - common.size
    if dropped:
        notes.append(f"{dropped} day(s) held by some symbols but not all were left out")
    table = np.column_stack(columns[:len(names)])
    return Closes(names, table, tuple(day_text(int(t)) for t in common), common,
                  columns[len(names)] if benchmark else None, notes=tuple(notes),
                  sources={s: r[2] for s, r in zip(wanted, reads, strict=True)})


def _symbols(symbols: list[str]) -> tuple[str, ...]:
    names = tuple(s.strip().upper() for s in symbols)
    if not names or any(not s for s in names):
        raise InvalidError("symbols: give one or more symbols, e.g. [\"AAPL\", \"MSFT\"]",
                           code="INVALID_OPTIMIZATION", field="symbols")
    if len(set(names)) != len(names):
        twice = next(s for s in names if names.count(s) > 1)
        raise InvalidError(f"symbols: {twice} is named twice", code="INVALID_OPTIMIZATION",
                           field="symbols")
    return names


def inline_table(name: str, table: dict[str, list[float]]) -> Closes:
    """An inline {symbol: [values]} table (prices or returns), equal lengths."""
    names = _symbols(list(table))
    lengths = {len(v) for v in table.values()}
    if len(lengths) != 1:
        shortest = min(table, key=lambda s: len(table[s]))
        raise InvalidError(f"{name}: every symbol needs the same number of values; "
                           f"{shortest.upper()} has {len(table[shortest])}, others up to "
                           f"{max(lengths)}", code="INVALID_OPTIMIZATION",
                           field=f"{name}.{shortest}")
    values = np.array([table[s] for s in table], dtype=np.float64).T
    bad = ~np.isfinite(values)
    if bad.any():  # pydantic refuses NaN already; a second guard costs nothing
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidError(f"{name}.{names[col]}.{row}: is not a finite number",
                           code="INVALID_OPTIMIZATION", field=f"{name}.{names[col]}.{row}")
    if values.shape[0] < MIN_DAYS:
        raise InvalidError(f"{name}: {values.shape[0]} values per symbol; at least {MIN_DAYS} "
                           "are needed", code="INVALID_OPTIMIZATION", field=name)
    return Closes(names, values, is_returns=name == "returns",
                  notes=(f"inline {name}: {values.shape[0]} rows",))
