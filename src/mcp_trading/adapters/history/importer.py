"""Importing a CSV or Parquet file of bars into the history store: all of the file, or none.

One file is one `store.writer()`: every batch is checked (vectorised, `checks.py`) and staged
in it, and a refusal anywhere rolls the whole file back, however large. A refusal is an
`InvalidError` naming the file, the row (header = row 1, see `reading.py`) and the reason.

Duplicates: rows with the same symbol and time are stored once when their values are equal
(counted in `ImportSummary.duplicates`) and refuse the file when they differ. Across batches a
symbol's rows must come in time order, ascending or descending, any interleaving of symbols
(files in that order need memory for one batch only); a row that falls inside the time range
already read for its symbol in an earlier batch refuses the file, asking to sort it.

Intraday timeframe: `--timeframe`, or the smallest spacing of one symbol's bars in the first
batch (1, 5, 15, 30 or 60 minutes, else the import asks for --timeframe); a later spacing below
the timeframe refuses the file. Symbols outside the platform's universe are registered as
history-only instruments (tick 0.01, lot 1) once the file's bars are committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mcp_trading.adapters.feeds.universe import DEFAULT_SYMBOLS
from mcp_trading.adapters.history.checks import Prices, first_fault
from mcp_trading.adapters.history.contract import (
    HISTORY_TIMEFRAMES,
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    HistoryWriter,
)
from mcp_trading.adapters.history.gaps import DailyGaps, Sessions
from mcp_trading.adapters.history.layouts import Layout, detect_layout, symbol_from_stem, valid_symbol
from mcp_trading.adapters.history.reading import (
    Batch,
    csv_row_number,
    file_format,
    header_of,
    iter_batches,
    locate_csv_fault,
)
from mcp_trading.adapters.history.summary import ImportProgress, ImportSummary, SeriesSummary, bar_time_text
from mcp_trading.adapters.history.timestamps import (
    TimeKind,
    TimeParseError,
    kind_of_times,
    midnights_to_days,
    parse_times,
)
from mcp_trading.domain.errors import InvalidError

__all__ = ["DEFAULT_LOT", "DEFAULT_TICK", "Progress", "import_file"]

DEFAULT_TICK = "0.01"  # = Instrument's defaults (domain/instruments.py)
DEFAULT_LOT = "1"
_MIN_NS = 60_000_000_000
_INTRADAY = {minutes * _MIN_NS: name for name, minutes in HISTORY_TIMEFRAMES.items() if name != "1Day"}

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Progress = Callable[[ImportProgress], None]


class _RefusedError(InvalidError):
    """A fault at a record (0-based index in the file); becomes an InvalidError with its row."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


@dataclass
class _Track:
    """What the import has seen of one symbol: its range, the bars at its ends, gap counts."""

    bars: int
    lo: int
    hi: int
    lo_values: F64
    hi_values: F64
    gaps: DailyGaps | None


def import_file(store: HistoryStore, path: str | Path, *, symbol: str | None = None,
                timeframe: str | None = None, fmt: str | None = None, source: str | None = None,
                renames: Mapping[str, str] | None = None,
                known: Collection[str] = DEFAULT_SYMBOLS, now_ns: int | None = None,
                progress: Progress | None = None) -> ImportSummary:
    """Import one file (all or nothing); InvalidError with file, row and reason if refused."""
    path = Path(path)
    if timeframe is not None and timeframe not in HISTORY_TIMEFRAMES:
        raise InvalidError(f"timeframe {timeframe!r} is not one of {', '.join(HISTORY_TIMEFRAMES)}",
                           field="timeframe", extra={"allowed": list(HISTORY_TIMEFRAMES)})
    if not path.is_file():
        raise InvalidError(f"{path}: no such file", field="path")
    kind = file_format(path, fmt)
    header = header_of(path, kind)
    layout = detect_layout(str(path), header, symbol=symbol, stem_symbol=symbol_from_stem(path))
    job = _FileImport(path, kind, header, layout, source=source or f"import:{path.name}",
                      timeframe=timeframe, renames=dict(renames or {}), progress=progress)
    with store.writer() as writer:
        job.run(writer)
        counts = writer.counts
    summary = job.summary(counts.inserted, counts.updated, counts.unchanged)
    fresh = [s for s in summary.symbols if s not in known]
    if fresh:
        created = time.time_ns() if now_ns is None else now_ns
        store.register_instruments([HistoryInstrument(s, DEFAULT_TICK, DEFAULT_LOT, job.source, created)
                                    for s in fresh])
    return _with_registered(summary, tuple(fresh))


def _with_registered(summary: ImportSummary, fresh: tuple[str, ...]) -> ImportSummary:
    from dataclasses import replace

    return replace(summary, registered=fresh)


class _FileImport:
    """The state of one file's import between batches."""

    def __init__(self, path: Path, fmt: str, header: list[str], layout: Layout, *, source: str,
                 timeframe: str | None, renames: dict[str, str], progress: Progress | None) -> None:
        self.path, self.fmt, self.header, self.layout = path, fmt, header, layout
        self.source, self.timeframe, self.renames, self.progress = source, timeframe, renames, progress
        self.kind: TimeKind | None = None
        self.tracks: dict[str, _Track] = {}
        self.sessions = Sessions()
        self.duplicates = 0
        self.renamed: dict[str, str] = {}

    def run(self, writer: HistoryWriter) -> None:
        bars = 0
        try:
            for batch in iter_batches(self.path, self.fmt, self.layout):
                bars += self._batch(writer, batch)
                if self.progress is not None:
                    self.progress(ImportProgress(str(self.path), batch.done, bars))
        except _RefusedError as refused:
            raise self._refusal(self._row(refused.index), refused.reason) from None
        except pa.ArrowInvalid as exc:
            fault = locate_csv_fault(self.path, self.header, self.layout) if self.fmt == "csv" else None
            if fault is None:
                raise InvalidError(f"{self.path}: cannot read the file: {exc}", field="path") from None
            raise self._refusal(*fault) from None
        if self.kind is None:
            raise InvalidError(f"{self.path}: the file holds no bars (only a header)", field="path")

    def _row(self, index: int) -> int:
        return csv_row_number(self.path, index) if self.fmt == "csv" else index + 1

    def _refusal(self, row: int, reason: str) -> InvalidError:
        return InvalidError(f"{self.path}: row {row}: {reason}; nothing of the file was stored",
                            field="row", extra={"file": str(self.path), "row": row, "reason": reason})

    def _batch(self, writer: HistoryWriter, batch: Batch) -> int:
        cols = batch.columns
        if cols.num_rows == 0:
            return 0
        ts = self._times(cols.column(self.layout.columns["date"]), batch.first)
        prices = Prices(*(self._numbers(cols, role) for role in
                          ("open", "high", "low", "close", "volume", "adj_close")))
        fault = first_fault(prices)
        if fault is not None:
            raise _RefusedError(batch.first + fault[0], fault[1])
        codes, names = self._symbols(cols, batch.first)
        order = np.lexsort((ts, codes))
        values = np.column_stack([prices.open, prices.high, prices.low, prices.close,
                                  prices.volume, prices.adj_close])[order]
        keep = self._dedupe(codes[order], ts[order], values, order + batch.first)
        order, values = order[keep], values[keep]
        codes_s, ts_s = codes[order], ts[order]
        if self.timeframe is None:
            self.timeframe = self._detect_timeframe(codes_s, ts_s, batch.first)
        cuts = np.flatnonzero(np.diff(codes_s)) + 1
        for lo, hi in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [codes_s.size])),
                          strict=True):
            self._series(writer, names[int(codes_s[lo])], ts_s[lo:hi], values[lo:hi],
                         order[lo:hi] + batch.first)
        return int(order.size)

    def _times(self, column: pa.Array, first: int) -> I64:
        if self.kind is None:
            self.kind = kind_of_times(column)
            if self.kind == "date" and self.timeframe not in (None, "1Day"):
                raise _RefusedError(first, f"the dates are days (YYYY-MM-DD), so the bars are 1Day, "
                                      f"not --timeframe {self.timeframe}")
            if self.kind == "date":
                self.timeframe = "1Day"
        try:
            ts = parse_times(column, self.kind)
        except TimeParseError as bad:
            raise _RefusedError(first + bad.index, f"date {bad.value!r}: {bad.reason}") from None
        if self.kind != "date" and self.timeframe == "1Day":
            ts, off = midnights_to_days(ts)
            if off is not None:
                raise _RefusedError(first + off, f"date {column[off].as_py()!r} is not midnight in "
                                            "New York, so it cannot name a 1Day bar")
        return ts

    def _numbers(self, cols: pa.RecordBatch, role: str) -> F64:
        name = self.layout.columns.get(role)
        if name is None:
            return np.full(cols.num_rows, np.nan)
        out: F64 = cols.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        return out

    def _symbols(self, cols: pa.RecordBatch, first: int) -> tuple[npt.NDArray[np.intp], list[str]]:
        if self.layout.symbol is not None:
            name = self.renames.get(self.layout.symbol, self.layout.symbol)
            self._note_rename(self.layout.symbol, name)
            return np.zeros(cols.num_rows, dtype=np.intp), [name]
        text = pc.utf8_upper(pc.utf8_trim_whitespace(cols.column(self.layout.columns["symbol"])))
        encoded = pc.dictionary_encode(pc.if_else(pc.equal(text, ""), None, text))
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        if encoded.null_count:
            i = int(np.flatnonzero(encoded.is_null().to_numpy(zero_copy_only=False))[0])
            raise _RefusedError(first + i, f"{self.layout.columns['symbol']} is empty")
        given = [str(s) for s in encoded.dictionary.to_pylist()]
        for k, sym in enumerate(given):
            if not valid_symbol(sym):
                raise _RefusedError(first + int(np.argmax(codes == k)), f"symbol {sym!r} is not a symbol "
                               "(1-16 upper-case letters, digits, '.', '-' or '/')")
        stored = [self.renames.get(s, s) for s in given]
        for file_name, name in zip(given, stored, strict=True):
            self._note_rename(file_name, name)
        names = sorted(set(stored))
        remap = np.array([names.index(s) for s in stored], dtype=np.intp)
        return remap[codes.astype(np.intp)], names

    def _note_rename(self, file_name: str, name: str) -> None:
        if file_name != name:
            self.renamed[file_name] = name

    def _dedupe(self, codes: npt.NDArray[np.intp], ts: I64, values: F64,
                records: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which sorted rows to keep: drop exact repeats, refuse differing ones."""
        keep = np.ones(ts.size, dtype=np.bool_)
        same = np.flatnonzero((codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1]))
        if same.size == 0:
            return keep
        a, b = values[same], values[same + 1]
        equal = np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=1)
        if not equal.all():
            j = int(same[np.argmin(equal)])
            first, later = sorted((int(records[j]), int(records[j + 1])))
            raise _RefusedError(later, f"a second bar for the same time with different values: "
                                  f"row {self._row(first)} has the same symbol and date")
        keep[same + 1] = False
        self.duplicates += int(same.size)
        return keep

    def _detect_timeframe(self, codes: npt.NDArray[np.intp], ts: I64, first: int) -> str:
        steps = np.diff(ts)[codes[1:] == codes[:-1]]
        steps = steps[steps > 0]
        if steps.size == 0:
            raise _RefusedError(first, "cannot tell the timeframe of date-and-time bars from one bar "
                                  "per symbol; pass --timeframe (1Min, 5Min, 15Min, 30Min, 1Hour)")
        step = int(steps.min())
        if step not in _INTRADAY:
            raise _RefusedError(first, f"the bars are {step / _MIN_NS:g} minutes apart, which is no "
                                  "timeframe of the store; pass --timeframe "
                                  "(1Min, 5Min, 15Min, 30Min, 1Hour, 1Day)")
        return _INTRADAY[step]

    def _series(self, writer: HistoryWriter, symbol: str, ts: I64, values: F64,
                records: npt.NDArray[np.intp]) -> None:
        track = self.tracks.get(symbol)
        before = after = None
        if track is not None:
            if ts[0] >= track.hi:
                before = track.hi
                if ts[0] == track.hi:
                    ts, values, records = self._boundary(ts, values, records, track.hi_values, 0)
            elif ts[-1] <= track.lo:
                after = track.lo
                if ts[-1] == track.lo:
                    ts, values, records = self._boundary(ts, values, records, track.lo_values, -1)
            else:
                raise _RefusedError(int(records[0]), f"{symbol}'s rows are not in time order: "
                                                f"{bar_time_text(int(ts[0]), str(self.timeframe))} "
                                                "falls inside the range of earlier rows; sort the "
                                                "file by symbol and date")
            if ts.size == 0:
                return
        self._check_spacing(ts, records, before, after)
        if track is None:
            gaps = DailyGaps() if self.timeframe == "1Day" else None
            track = self.tracks[symbol] = _Track(0, int(ts[0]), int(ts[-1]), values[0], values[-1], gaps)
        if track.gaps is not None:
            track.gaps.add(self.sessions, ts, before, after)
        track.bars += int(ts.size)
        if ts[0] < track.lo:
            track.lo, track.lo_values = int(ts[0]), values[0]
        if ts[-1] > track.hi:
            track.hi, track.hi_values = int(ts[-1]), values[-1]
        writer.add(symbol, self.source, str(self.timeframe), _bars(ts, values))

    def _boundary(self, ts: I64, values: F64, records: npt.NDArray[np.intp], seen: F64,
                  at: int) -> tuple[I64, F64, npt.NDArray[np.intp]]:
        """The batch's bar at the edge of the range already read repeats it: drop or refuse."""
        row = values[at]
        if not bool(np.all((row == seen) | (np.isnan(row) & np.isnan(seen)))):
            raise _RefusedError(int(records[at]), "a second bar for the same time with different "
                                             "values (an earlier row has the same symbol and date)")
        self.duplicates += 1
        cut = slice(1, None) if at == 0 else slice(None, -1)
        return ts[cut], values[cut], records[cut]

    def _check_spacing(self, ts: I64, records: npt.NDArray[np.intp], before: int | None,
                       after: int | None) -> None:
        if self.timeframe == "1Day":
            return
        step = HISTORY_TIMEFRAMES[str(self.timeframe)] * _MIN_NS
        edges = np.concatenate(([before] if before is not None else [], ts,
                                [after] if after is not None else [])).astype(np.int64)
        close = np.flatnonzero(np.diff(edges) < step)
        if close.size:
            j = min(int(close[0]) + (0 if before is None else -1) + 1, ts.size - 1)
            raise _RefusedError(int(records[max(j, 0)]),
                           f"bars {int(np.diff(edges)[close[0]]) / _MIN_NS:g} minutes apart in a "
                           f"{self.timeframe} import; pass the right --timeframe")

    def summary(self, inserted: int, updated: int, unchanged: int) -> ImportSummary:
        series = []
        for symbol in sorted(self.tracks):
            t = self.tracks[symbol]
            gaps = None if t.gaps is None else t.gaps.missing(self.sessions, t.lo, t.hi)
            days = () if t.gaps is None else tuple(bar_time_text(d, "1Day") for d in sorted(t.gaps.examples))
            series.append(SeriesSummary(symbol, t.bars, t.lo, t.hi, gaps, days,
                                        0 if t.gaps is None else t.gaps.off_session))
        return ImportSummary(str(self.path), self.source, str(self.timeframe), self.layout.name,
                             sum(s.bars for s in series), inserted, updated, unchanged,
                             self.duplicates, tuple(series), dict(self.renamed))


def _bars(ts: I64, values: F64) -> BarColumns:
    close = values[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        adj = values[:, 5] / close
    o, h, low, c, v = (np.ascontiguousarray(values[:, k]) for k in range(5))
    return BarColumns(np.ascontiguousarray(ts), o, h, low, c, v, np.ascontiguousarray(adj))
