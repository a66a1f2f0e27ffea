"""Reading an import file in batches: CSV (plain or gzip) with Arrow's streaming reader, Parquet
by row groups. Memory stays bounded by the batch size, whatever the file's size.

Row numbers are for humans: in a CSV the header is row 1 and the first bar row 2, counted as
the file's lines (a blank line counts, a quoted value across lines counts as its first line);
in a Parquet file the first row of data is row 1. The fast path knows only a record's index;
`csv_row_number` and `locate_csv_fault` re-read the file with Python's csv module on the error
path only, so the hot path carries no per-row Python.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from mcp_trading.adapters.history.layouts import Layout
from mcp_trading.domain.errors import InvalidError

__all__ = ["FORMATS", "Batch", "csv_row_number", "file_format", "header_of", "iter_batches",
           "locate_csv_fault"]

FORMATS = ("csv", "parquet")
_BLOCK = 1 << 20  # bytes of CSV per batch (~16k rows); 8 MiB blocks cost ~150 MB more RSS (measured)
_PARQUET_ROWS = 131_072


class Batch(NamedTuple):
    columns: pa.RecordBatch  # the layout's columns only, numbers as float64, times as read
    first: int  # the 0-based index of its first record in the file
    done: float  # fraction of the file read so far, 0..1 (for a progress bar)


def file_format(path: Path, given: str | None) -> str:
    """csv or parquet: as given, else by the name (.parquet, .pq; anything else is CSV)."""
    if given is not None:
        if given not in FORMATS:
            raise InvalidError(f"format {given!r} is not one of {', '.join(FORMATS)}", field="format")
        return given
    return "parquet" if path.name.lower().endswith((".parquet", ".pq")) else "csv"


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def header_of(path: Path, fmt: str) -> list[str]:
    """The file's column names (an empty file has none)."""
    try:
        if fmt == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        with _open_text(path) as f:
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise InvalidError(f"{path}: cannot read the file as {fmt.upper()}: {exc}", field="path") from exc


def iter_batches(path: Path, fmt: str, layout: Layout) -> Iterator[Batch]:
    """The file's batches (may raise pa.ArrowInvalid: the caller locates the fault)."""
    if fmt == "parquet":
        yield from _parquet_batches(path, layout)
    else:
        yield from _csv_batches(path, layout)


def _csv_batches(path: Path, layout: Layout) -> Iterator[Batch]:
    types = {name: pa.float64() for name in layout.numeric}
    types[layout.columns["date"]] = pa.string()
    if "symbol" in layout.columns:
        types[layout.columns["symbol"]] = pa.string()
    size = max(path.stat().st_size, 1)
    with path.open("rb") as raw:
        stream: pa.NativeFile = pa.PythonFile(raw, mode="r")
        if path.name.lower().endswith(".gz"):
            stream = pa.CompressedInputStream(stream, "gzip")
        reader = pcsv.open_csv(
            # no reader threads: they read ahead of a slower store without bound (RSS grew with
            # the file); on two cores they gained nothing (measured, benchmarks/history_import.py)
            stream, read_options=pcsv.ReadOptions(block_size=_BLOCK, encoding="utf8",
                                                  use_threads=False),
            convert_options=pcsv.ConvertOptions(column_types=types, include_columns=list(types),
                                                strings_can_be_null=True))
        first = 0
        for batch in reader:
            yield Batch(batch, first, min(raw.tell() / size, 1.0))
            first += batch.num_rows


def _parquet_batches(path: Path, layout: Layout) -> Iterator[Batch]:
    f = pq.ParquetFile(path)
    total = max(f.metadata.num_rows, 1)
    names = [layout.columns[r] for r in layout.columns]
    first = 0
    for batch in f.iter_batches(batch_size=_PARQUET_ROWS, columns=names):
        arrays = [batch.column(n) if n not in layout.numeric else batch.column(n).cast(pa.float64())
                  for n in names]
        yield Batch(pa.RecordBatch.from_arrays(arrays, names=names), first,
                    (first + batch.num_rows) / total)
        first += batch.num_rows


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number of its first line, values) of every data record; blank lines skipped."""
    with _open_text(path) as f:
        reader = csv.reader(f)
        next(reader, None)
        line = reader.line_num
        for values in reader:
            start, line = line + 1, reader.line_num
            if values:
                yield start, values


def csv_row_number(path: Path, index: int) -> int:
    """The human row number (header = 1) of the CSV's record at 0-based `index`."""
    for i, (row, _) in enumerate(_records(path)):
        if i == index:
            return row
    return index + 2


def locate_csv_fault(path: Path, header: list[str], layout: Layout) -> tuple[int, str] | None:
    """The first row (number, reason) whose shape or numbers Arrow could not read, if any."""
    where = {role: header.index(name) for role, name in layout.columns.items()}
    numeric = [(role, where[role]) for role, name in layout.columns.items() if name in layout.numeric]
    for row, values in _records(path):
        if len(values) != len(header):
            return row, f"{len(values)} values where the header has {len(header)} columns"
        for role, i in numeric:
            text = values[i].strip()
            if text in ("", "null", "NULL", "NaN", "nan", "N/A", "NA", "-NaN", "-nan"):
                continue  # Arrow reads these as empty; the checks decide what empty means
            try:
                float(text)
            except ValueError:
                return row, f"{layout.columns[role]} {text!r} is not a number"
    return None
