"""Real daily prices for the analytics tests: the shipped sample (Quandl WIKI prices of five
stocks, bokeh-sampledata's stocks.csv.gz), read with the standard library.

Where it is looked for, in order: the package data (`src/mcp_trading/data/sample/`, shipped by
the history-import branch), that branch's blob (`git show h13-import:...`, before the merge),
the bokeh-sampledata wheel in /tmp/bsd. None found: skip, or fail under CI=true.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import in_ci

__all__ = ["CLOSE_HOUR_UTC", "OPEN_HOUR_UTC", "Prices", "at", "sample_prices"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = "src/mcp_trading/data/sample/stocks.csv.gz"
OPEN_HOUR_UTC, CLOSE_HOUR_UTC = 14, 21  # 9:30 and 16:00 New York, near enough for the tests


@dataclass(frozen=True)
class Prices:
    """One symbol's daily bars, oldest first; prices as written in the file (Decimal)."""

    symbol: str
    dates: list[date]
    open: list[Decimal]
    close: list[Decimal]


def at(day: date, hour: int, minute: int = 0) -> int:
    """ns since the epoch of `day` at hour:minute UTC."""
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp()) * 10**9


def _raw() -> bytes | None:
    packaged = ROOT / PACKAGED
    if packaged.exists():
        return packaged.read_bytes()
    shown = subprocess.run(["git", "show", f"h13-import:{PACKAGED}"], cwd=ROOT,
                           capture_output=True, check=False, timeout=30)
    if shown.returncode == 0 and shown.stdout:
        return shown.stdout
    for wheel in sorted(Path("/tmp/bsd").glob("bokeh_sampledata-*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            return archive.read("bokeh_sampledata/_data/stocks.csv.gz")
    return None


@functools.cache
def _load() -> dict[str, Prices] | None:
    raw = _raw()
    if raw is None:
        return None
    rows: dict[str, list[tuple[date, Decimal, Decimal]]] = {}
    with gzip.open(io.BytesIO(raw), "rt", newline="") as text:
        for row in csv.DictReader(text):
            rows.setdefault(row["Ticker"], []).append(
                (date.fromisoformat(row["Date"]), Decimal(row["Open"]), Decimal(row["Close"])))
    out = {}
    for symbol, bars in rows.items():
        bars.sort()
        out[symbol] = Prices(symbol, [b[0] for b in bars], [b[1] for b in bars],
                             [b[2] for b in bars])
    return out


def sample_prices(symbol: str) -> Prices:
    """The symbol's bars (AAPL, MSFT, IBM, GOOG, FB), or skip (fail under CI) when absent."""
    loaded = _load()
    if loaded is None:
        message = (f"the price sample is missing ({PACKAGED}, branch h13-import or "
                   "/tmp/bsd/bokeh_sampledata-*.whl)")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return loaded[symbol]
