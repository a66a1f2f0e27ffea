"""An import's time column -> bar timestamps (ns since the epoch, UTC), vectorised with Arrow.

The kind of a file's times is decided by its first value and then holds for the whole file:

- a date (``2010-01-04``, or a Parquet date column): a ``1Day`` bar; its ts is midnight of that
  date in America/New_York (the contract's rule, Alpaca's convention);
- a date and time with a zone offset (``2010-01-04T14:30:00Z``, ``...-05:00``): that instant;
- a date and time without one (``2010-01-04 09:30:00``, Alpha Vantage's intraday CSV): local
  time of the exchange, America/New_York; a time the clock skips (DST) is refused, a repeated
  one is taken at its first occurrence.

A value that cannot be read is reported by its index in the batch (`TimeParseError`).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mcp_trading.domain.errors import InvalidError

__all__ = ["EXCHANGE_TZ", "TimeKind", "TimeParseError", "day_starts", "kind_of_times", "midnights_to_days",
           "parse_times"]

EXCHANGE_TZ = "America/New_York"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$")

TimeKind = str  # "date" | "instant" (with offset) | "local" (exchange time)


class TimeParseError(InvalidError):
    """The value at `index` of the batch is not a time of the file's kind."""

    def __init__(self, index: int, value: object, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.value = value
        self.reason = reason


def kind_of_times(column: pa.Array | pa.ChunkedArray) -> TimeKind:
    """The kind of the file's times, from its first non-empty value."""
    if pa.types.is_date(column.type):
        return "date"
    if pa.types.is_timestamp(column.type):
        return "instant" if column.type.tz is not None else "local"
    valid = column.drop_null()
    first = str(valid[0].as_py()).strip() if len(valid) else ""
    if _DATE.match(first):
        return "date"
    return "instant" if _OFFSET.search(first) else "local"


def day_starts(days: pa.Array) -> npt.NDArray[np.int64]:
    """Midnight in New York (UTC ns) of each date (a date32/date64 or timestamp array)."""
    naive = pc.cast(pc.cast(days, pa.date32()), pa.timestamp("s"))
    local = pc.assume_timezone(naive, EXCHANGE_TZ)
    ts: npt.NDArray[np.int64] = pc.cast(local, pa.int64()).to_numpy(zero_copy_only=False)
    return ts * 1_000_000_000


def parse_times(column: pa.Array, kind: TimeKind) -> npt.NDArray[np.int64]:
    """The bar timestamps (UTC ns) of a batch's time column; TimeParseError on a bad value."""
    if column.null_count:
        i = _first_null(column)
        raise TimeParseError(i, None, "the date is empty")
    if kind == "date":
        return day_starts(_dates(column))
    if pa.types.is_timestamp(column.type):
        stamps = pc.cast(column, pa.timestamp("ns", tz=column.type.tz))
    else:
        text = pc.utf8_trim_whitespace(column)
        target = pa.timestamp("ns", tz="UTC") if kind == "instant" else pa.timestamp("ns")
        try:
            stamps = pc.cast(text, target)
        except pa.ArrowInvalid:
            raise _locate_unreadable(text, target, kind) from None
    if kind == "local":
        try:
            stamps = pc.assume_timezone(stamps, EXCHANGE_TZ, ambiguous="earliest",
                                        nonexistent="raise")
        except pa.ArrowInvalid:
            raise _locate_skipped(stamps) from None
    out: npt.NDArray[np.int64] = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    return out


def _first_null(column: pa.Array) -> int:
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])


def _dates(column: pa.Array) -> pa.Array:
    if pa.types.is_date(column.type):
        return column
    if pa.types.is_timestamp(column.type):  # a Parquet datetime in a daily file: its date
        return pc.cast(column, pa.date32())
    text = pc.utf8_trim_whitespace(column)
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    bad = np.flatnonzero(parsed.is_null().to_numpy(zero_copy_only=False)
                         | ~pc.match_substring_regex(text, _DATE.pattern).to_numpy(zero_copy_only=False))
    if bad.size:
        i = int(bad[0])
        raise TimeParseError(i, text[i].as_py(), "not a date (expected YYYY-MM-DD, like the "
                                                 "file's first row)")
    return pc.cast(parsed, pa.date32())


def _locate_unreadable(text: pa.Array, target: pa.DataType, kind: TimeKind) -> TimeParseError:
    for i in range(len(text)):  # the error path only: find the value Arrow refused
        try:
            pc.cast(text[i : i + 1], target)
        except pa.ArrowInvalid:
            expected = ("a date and time with a zone offset, like the file's first row "
                        "(2010-01-04T09:30:00-05:00)" if kind == "instant" else
                        "a date and time without a zone offset, like the file's first row "
                        "(2010-01-04 09:30:00, New York time)")
            return TimeParseError(i, text[i].as_py(), f"not a time (expected {expected})")
    return TimeParseError(0, text[0].as_py(), "not a time")


def _locate_skipped(stamps: pa.Array) -> TimeParseError:
    for i in range(len(stamps)):
        try:
            pc.assume_timezone(stamps[i : i + 1], EXCHANGE_TZ, nonexistent="raise")
        except pa.ArrowInvalid:
            return TimeParseError(i, str(stamps[i].as_py()),
                                  "a New York time the clock skips (daylight saving starts)")
    return TimeParseError(0, None, "not a New York time")


def midnights_to_days(ts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int | None]:
    """Instants that are New York midnights -> their day's ts; else the index of the first that
    is not (a `1Day` import of date-and-time values, like `2010-01-04 00:00:00-05:00`)."""
    local = pc.local_timestamp(pa.array(ts, type=pa.timestamp("ns", tz=EXCHANGE_TZ)))
    ns = pc.cast(local, pa.int64()).to_numpy(zero_copy_only=False)
    off = np.flatnonzero(ns % 86_400_000_000_000)
    if off.size:
        return ts, int(off[0])
    return day_starts(pc.cast(local, pa.date32())), None
