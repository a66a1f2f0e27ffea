"""The column layouts an import understands, detected from a file's header.

Three layouts, matched case-insensitively (surrounding spaces ignored):

- ``long``: a ticker column (``Ticker`` or ``Symbol``) beside date and OHLCV, one row per symbol
  and bar, optionally ``Adj Close`` (the shipped sample's layout);
- ``alphavantage``: Alpha Vantage's CSV, ``timestamp, open, high, low, close, volume`` (its
  adjusted daily series adds ``adjusted_close``);
- ``single``: one symbol per file, Yahoo style ``Date, Open, High, Low, Close, Adj Close,
  Volume``; the symbol is `--symbol` or the file's stem (``AAPL.csv`` -> AAPL).

Date, open, high, low and close are required; volume and the adjusted close are optional
(volume NaN, adj_factor NaN where absent). Other columns are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcp_trading.domain.errors import InvalidError

__all__ = ["ROLES", "Layout", "detect_layout", "symbol_from_stem", "valid_symbol"]

#: role -> the header names (lower case) that fill it, first match wins
_NAMES: dict[str, tuple[str, ...]] = {
    "symbol": ("ticker", "symbol"),
    "date": ("date", "timestamp", "datetime", "time"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume",),
    "adj_close": ("adj close", "adj_close", "adjclose", "adjusted_close", "adjusted close"),
}
ROLES = tuple(_NAMES)
_REQUIRED = ("date", "open", "high", "low", "close")
_PRICES = ("open", "high", "low", "close")
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,15}$")  # the universe's rule (feeds/universe.py)
_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".pq", ".gz")


@dataclass(frozen=True, slots=True)
class Layout:
    """Which header column fills each role, and the symbol of a one-symbol file."""

    name: str  # long | alphavantage | single
    columns: dict[str, str]  # role -> the column's name as written in the file
    symbol: str | None  # the one symbol of a `single` or `alphavantage` file

    @property
    def numeric(self) -> tuple[str, ...]:
        """The file's columns read as numbers (prices, volume, adjusted close)."""
        return tuple(self.columns[r] for r in (*_PRICES, "volume", "adj_close") if r in self.columns)


def valid_symbol(symbol: str) -> bool:
    """1-16 upper-case letters, digits, '.', '-' or '/', as the platform's instruments."""
    return bool(_SYMBOL.match(symbol))


def symbol_from_stem(path: Path) -> str:
    """The symbol a one-symbol file's name gives: AAPL.csv, aapl.csv.gz, MSFT.parquet."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)].strip().upper()
    return path.stem.strip().upper()


def detect_layout(file: str, header: Sequence[str], *, symbol: str | None,
                  stem_symbol: str) -> Layout:
    """The layout of a file with this header; InvalidError naming what was found and needed."""
    by_lower: dict[str, str] = {}
    for name in header:
        by_lower.setdefault(name.strip().lower(), name)
    columns = {role: by_lower[n] for role, names in _NAMES.items()
               for n in names[:: -1] if n in by_lower}  # reversed: the first name listed wins
    missing = [role for role in _REQUIRED if role not in columns]
    if missing:
        needed = "; ".join(f"{role}: one of {', '.join(_NAMES[role])}" for role in missing)
        raise InvalidError(
            f"{file}: unknown column layout: found columns {', '.join(map(repr, header))}; "
            f"missing {needed}. Known layouts: Ticker/Symbol + Date + Open/High/Low/Close "
            "[+ Volume, Adj Close] (long), Date/Open/High/Low/Close/Adj Close/Volume (one symbol "
            "per file, Yahoo), timestamp/open/high/low/close/volume (Alpha Vantage)",
            field="columns", extra={"found": list(header), "missing": missing})
    if "symbol" in columns:
        if symbol is not None:
            raise InvalidError(f"{file}: --symbol is for files of one symbol, but this file has a "
                               f"{columns['symbol']!r} column naming the symbol of each row; "
                               "drop --symbol", field="symbol")
        return Layout("long", columns, None)
    name = "alphavantage" if columns["date"].strip().lower() == "timestamp" else "single"
    chosen = (symbol or stem_symbol).strip().upper()
    if not valid_symbol(chosen):
        where = "--symbol" if symbol else "the file name"
        raise InvalidError(f"{file}: {where} gives the symbol {chosen!r}, which is not a symbol "
                           "(1-16 upper-case letters, digits, '.', '-' or '/'); a file of one "
                           "symbol needs --symbol SYM or a name like AAPL.csv", field="symbol")
    return Layout(name, columns, chosen)
