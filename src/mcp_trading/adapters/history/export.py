"""Exporting one stored series to CSV or Parquet, in the long layout an import reads back.

Columns: ``Ticker, Date, Open, High, Low, Close, Volume, Adj Close``. A daily bar's Date is its
New York date (``2010-01-04``); an intraday bar's is its New York time with the offset
(``2010-07-01T09:30:00-0400``; Parquet: a UTC timestamp). Volume is an integer where every
bar's is whole, and empty where not reported; Adj Close is ``close * adj_factor``, empty where
no adjustment is known. Re-importing an export under the same source changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from mcp_trading.adapters.history.contract import BarColumns, HistoryStore, SeriesRange
from mcp_trading.adapters.history.reading import FORMATS
from mcp_trading.adapters.history.timestamps import EXCHANGE_TZ
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["EXPORT_COLUMNS", "ExportResult", "choose_series", "export_series"]

EXPORT_COLUMNS = ("Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close")


class ExportResult(NamedTuple):
    path: Path
    series: SeriesRange


def choose_series(store: HistoryStore, symbol: str, source: str | None,
                  timeframe: str | None) -> SeriesRange:
    """The one stored series of `symbol` the filters leave; else say which there are."""
    found = [s for s in store.series(symbol)
             if (source is None or s.source == source) and (timeframe is None or s.timeframe == timeframe)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFoundError(f"no stored history for {symbol}"
                            + (f" from source {source!r}" if source else "")
                            + (f" at timeframe {timeframe}" if timeframe else "")
                            + "; `mcp-trading data list` shows what is stored", field="symbol")
    choices = ", ".join(f"--source {s.source} --timeframe {s.timeframe}" for s in found)
    raise InvalidError(f"{symbol} has {len(found)} stored series; choose one: {choices}",
                       field="source")


def _table(symbol: str, timeframe: str, bars: BarColumns, fmt: str) -> pa.Table:
    stamps = pa.array(bars.ts, type=pa.timestamp("ns", tz=EXCHANGE_TZ))
    if timeframe == "1Day":
        date: pa.Array = pc.cast(pc.local_timestamp(stamps), pa.date32())
    elif fmt == "parquet":
        date = pc.cast(stamps, pa.timestamp("ns", tz="UTC"))
    else:
        date = pc.strftime(pc.cast(stamps, pa.timestamp("s", tz=EXCHANGE_TZ)),
                           format="%Y-%m-%dT%H:%M:%S%z")
    nan_volume = np.isnan(bars.volume)
    whole = bool(np.all(np.mod(bars.volume[~nan_volume], 1) == 0))
    volume = pa.array(np.where(nan_volume, 0, bars.volume).astype(np.int64) if whole else bars.volume,
                      mask=nan_volume)
    adj = bars.close * bars.adj_factor
    columns = [pa.array([symbol] * bars.size, type=pa.string()), date, pa.array(bars.open),
               pa.array(bars.high), pa.array(bars.low), pa.array(bars.close), volume,
               pa.array(adj, mask=np.isnan(adj))]
    return pa.Table.from_arrays(columns, names=list(EXPORT_COLUMNS))


def export_series(store: HistoryStore, symbol: str, *, fmt: str, out: Path | None = None,
                  source: str | None = None, timeframe: str | None = None) -> ExportResult:
    """Write one series to `out` (default ``SYMBOL.csv`` / ``SYMBOL.parquet`` here)."""
    if fmt not in FORMATS:
        raise InvalidError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    series = choose_series(store, symbol, source, timeframe)
    bars = store.read(symbol, series.source, series.timeframe)
    path = out if out is not None else Path(f"{symbol}.{fmt}")
    table = _table(symbol, series.timeframe, bars, fmt)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        with path.open("wb") as f:
            f.write((",".join(EXPORT_COLUMNS) + "\n").encode())
            pcsv.write_csv(table, f, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    return ExportResult(path, series)
