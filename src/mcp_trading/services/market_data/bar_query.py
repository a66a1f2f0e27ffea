"""The bar query of `GET /bars/{symbol}`: its parameters, page tokens and the bar view.

One route serves two kinds of bars: stored history (imports, providers: `read_bars` picks the
source) and the live feed's own 1-minute bars, rolled up. This module is what both share:

- Dates: `start`/`end` are RFC 3339 times or `YYYY-MM-DD` dates (UTC; a naive time is UTC);
  a date as `end` takes in that whole day.
- Paging: a forward read (from `start`) that leaves bars behind answers a `next_page_token`:
  opaque text holding the ts the next page starts at, the source the first page read (so a
  read never changes source mid-way) and a digest of the query's identity (symbol,
  timeframe, start, end, adjustment, source as asked). A token sent with other parameters is
  refused; `limit` may change between pages. A read without `start` answers the latest bars
  up to `end`, and no token.
- Prices: history is float64 (adapters/history/contract.py); a price is written as the
  shortest text that reads back as it, after rounding to 15 significant digits, so an
  imported "30.57" comes back as "30.57" and an adjusted price carries no float noise.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import re
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.history.contract import ADJUSTMENTS, HISTORY_TIMEFRAMES, BarColumns
from mcp_trading.adapters.history.reads import PAGE_LIMIT
from mcp_trading.domain.errors import InvalidError
from mcp_trading.security.access import parse_time

__all__ = [
    "HISTORY_MAX_LIMIT",
    "BarQuery",
    "PageToken",
    "columns_view",
    "encode_token",
    "parse_query",
    "price_text",
]

#: bars per page of stored history at most (and by default, 1000)
HISTORY_MAX_LIMIT = PAGE_LIMIT
_DEFAULT_LIMIT = 1000
_DAY_NS = 86_400 * 1_000_000_000
_MAX_NS = 2**63 - 1
_FIXED_PLACES = 4  # decimals formatted by integer arithmetic (a table of 10**4 texts)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BAD_TOKEN = ("page_token: not a token this route gave out; pass next_page_token from the "
              "previous reply unchanged, or leave it out to start from `start`")


class PageToken(NamedTuple):
    source: str  # the source the first page read
    start: int  # ts of the next page's first bar


class BarQuery(NamedTuple):
    """A validated bar query (the symbol is upper-cased; `limit` is checked per path)."""

    symbol: str
    timeframe: str
    start: int | None
    end: int | None
    limit: str | None
    adjustment: str
    source: str | None  # as asked; None: the best stored source, else the live feed
    token: PageToken | None

    @property
    def identity(self) -> str:
        """A digest of what a page token is bound to."""
        text = "|".join(str(x) for x in (self.symbol, self.timeframe, self.start, self.end,
                                          self.adjustment, self.source or ""))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def from_ts(self) -> int | None:
        """Where this page starts: the token's ts, else `start`."""
        return self.token.start if self.token is not None else self.start

    @property
    def read_source(self) -> str | None:
        """The source to read: the first page's (from the token), else as asked."""
        return self.token.source if self.token is not None else self.source

    def page_limit(self, most: int) -> int:
        """`limit` as a number from 1 to `most` (the default when absent)."""
        limit = self.limit
        if limit is None or not limit.strip():
            return min(_DEFAULT_LIMIT, most)
        try:
            n = int(limit)
        except ValueError:
            n = 0
        if not 1 <= n <= most:
            raise InvalidError(f"limit: {limit!r} is not allowed; use a whole number from 1 "
                               f"to {most} for this timeframe", code="INVALID_PARAMETER",
                               field="limit")
        return n


def parse_query(symbol: str, *, timeframe: str | None, start: str | None, end: str | None,
                limit: str | None, adjustment: str | None, source: str | None,
                page_token: str | None) -> BarQuery:
    """The query's parameters checked; InvalidError naming the first bad one."""
    tf = timeframe or "1Min"
    if tf not in HISTORY_TIMEFRAMES:
        raise InvalidError(f"timeframe: {tf!r} is not allowed; use one of: "
                           + ", ".join(HISTORY_TIMEFRAMES), code="INVALID_PARAMETER",
                           field="timeframe")
    adj = (adjustment or "raw").strip().lower()
    if adj not in ADJUSTMENTS:
        raise InvalidError(f"adjustment: {adjustment!r} is not allowed; use raw (prices as "
                           "traded) or all (adjusted for splits and dividends)",
                           code="INVALID_PARAMETER", field="adjustment")
    t0, t1 = _day_or_time("start", start), _day_or_time("end", end, whole_day=True)
    if t0 is not None and t1 is not None and t0 > t1:
        raise InvalidError(f"start: {start} is after end {end}; start must be at or before end",
                           code="INVALID_PARAMETER", field="start")
    name = (source or "").strip() or None
    query = BarQuery(symbol.strip().upper(), tf, t0, t1, limit, adj, name, None)
    if page_token is not None and page_token.strip():
        query = query._replace(token=_decode_token(page_token.strip(), query))
    return query


def _day_or_time(name: str, value: str | None, *, whole_day: bool = False) -> int | None:
    ns = parse_time(name, value)
    if ns is not None and whole_day and value is not None and _DATE.fullmatch(value.strip()):
        # `end=2010-12-31`: through the last nanosecond of that day (int64 at most)
        ns = min(ns + _DAY_NS - 1, _MAX_NS)
    return ns


def encode_token(query: BarQuery, source: str, start: int) -> str:
    """The next page's token: opaque, bound to the query's identity."""
    raw = json.dumps({"q": query.identity, "src": source, "s": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, query: BarQuery) -> PageToken:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        identity, source, start = data["q"], data["src"], data["s"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidError(_BAD_TOKEN, code="INVALID_PAGE_TOKEN", field="page_token") from None
    if not (isinstance(identity, str) and isinstance(source, str) and type(start) is int):
        raise InvalidError(_BAD_TOKEN, code="INVALID_PAGE_TOKEN", field="page_token")
    if identity != query.identity:
        raise InvalidError("page_token: it was given out for another query (symbol, timeframe, "
                           "start, end, adjustment or source differ); send the first page's "
                           "parameters unchanged with it, or leave it out to start over",
                           code="INVALID_PAGE_TOKEN", field="page_token")
    if (query.start is not None and start < query.start) or (
            query.end is not None and start > query.end):
        raise InvalidError(_BAD_TOKEN, code="INVALID_PAGE_TOKEN", field="page_token")
    return PageToken(source, start)


def price_text(x: float) -> str:
    """A float price as decimal text: shortest, after rounding to 15 significant digits."""
    text = repr(x)
    if len(text) <= 16 and "e" not in text:  # at most 15 digits: already the shortest text
        return text
    text = repr(float(format(x, ".15g")))
    return format(Decimal(text), "f") if "e" in text else text


def _volume_text(x: float) -> str | None:
    if math.isnan(x):
        return None
    return str(int(x)) if x.is_integer() else price_text(x)


@functools.cache
def _fractions(places: int) -> npt.NDArray[np.object_]:
    """The text after the whole part of every fraction of `places` decimals: ".0", ".01",
    ".1", ... (trailing zeros dropped, at least one digit, as `repr` writes them)."""
    texts = [".0"] + [f".{i:0{places}d}".rstrip("0") for i in range(1, 10**places)]
    return np.array(texts, dtype=object)


def _fixed_point_texts(col: npt.NDArray[np.float64]) -> list[str] | None:
    """`price_text` of a column whose values are all exactly decimals of at most
    _FIXED_PLACES places (prices in cents or ticks: the usual), by integer arithmetic; None
    for any other column.

    Exact: when `k / 10**p == x` for a whole k below 10**15, x is the double nearest to the
    decimal k/10**p (IEEE division rounds correctly, like parsing its text), and two decimals
    of at most 15 significant digits never share a double, so that decimal is `repr(x)`'s
    shortest text. Integer to text costs a fraction of float to shortest text."""
    if col.size == 0 or bool(np.signbit(col).any()) or not float(col.max()) < 1e15:
        return None  # empty, a sign (-0.0 too), NaN or too many digits: the general path
    for places in range(_FIXED_PLACES + 1):
        scale = 10**places
        ticks = np.rint(col * scale)
        if np.array_equal(ticks / scale, col):
            break
    else:
        return None
    if float(ticks.max()) >= 1e15:
        return None
    whole, part = np.divmod(ticks.astype(np.int64), scale)
    return list(map(str.__add__, map(str, whole.tolist()), _fractions(places)[part].tolist()))


def _price_texts(col: npt.NDArray[np.float64]) -> list[str]:
    """`price_text` of a whole column: by integer arithmetic when every value is a short
    decimal, else `repr` in one C-level pass, and `price_text` only for the values whose repr
    is not already the answer (more than 15 digits: float noise, e.g. an adjusted price; or
    scientific notation: below 1e-4 or from 1e16)."""
    fixed = _fixed_point_texts(col)
    if fixed is not None:
        return fixed
    texts = list(map(repr, col.tolist()))
    magnitude = np.abs(col)
    if not texts or (max(map(len, texts)) <= 16 and not np.any(
            (magnitude != 0) & ((magnitude < 1e-4) | (magnitude >= 1e16)))):
        return texts
    return [t if len(t) <= 16 and "e" not in t else price_text(float(col[i]))
            for i, t in enumerate(texts)]


def _volume_texts(col: npt.NDArray[np.float64]) -> list[str | None]:
    """`_volume_text` of a whole column: whole numbers without NaN (the usual) at once."""
    if col.size and not np.isnan(col).any() and bool((col == np.floor(col)).all()) \
            and float(np.abs(col).max()) < 2**53:
        return list(map(str, col.astype(np.int64).tolist()))
    return [_volume_text(x) for x in col.tolist()]


def _iso_times(ts: npt.NDArray[np.int64]) -> list[str]:
    """ISO 8601 UTC with microseconds, as views.iso writes them, for a column at once."""
    # timezone="UTC" writes the "Z" in numpy's own loop (no Python pass over the texts)
    text: list[str] = np.datetime_as_string(ts.astype("datetime64[ns]"), unit="us",
                                            timezone="UTC").tolist()
    return text


def columns_view(bars: BarColumns) -> list[dict[str, Any]]:
    """Stored bars as the route's bar objects (`n`: null, history folds no quotes).

    Column-wise: each column is formatted to text in one pass (numpy for the times, a C-level
    `map(repr)` for prices, checked at once for the rare value that needs rounding), then the
    texts are zipped into the bar objects. Ten years of daily AAPL (2,520 bars), the two
    versions alternated in one process on this shared 2-core machine under load (calib loop
    2.0 s, five times the reference): 13.6 ms per value (`price_text` per call) against 11.0
    ms column-wise; building the 2,520 dicts alone is about a fifth of it.
    """
    return [{"t": t, "o": o, "h": h, "l": lo, "c": c, "v": v, "n": None}
            for t, o, h, lo, c, v in zip(_iso_times(bars.ts), _price_texts(bars.open),
                                         _price_texts(bars.high), _price_texts(bars.low),
                                         _price_texts(bars.close), _volume_texts(bars.volume),
                                         strict=True)]
