"""Issue 13's "done when", as a newcomer runs it: `data import --sample` on a fresh data dir,
the platform started, and the 2010 AAPL daily closes GET :8001/bars serves equal to the
shipped file's (read here straight from the gz, not through the platform's parser)."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from importlib.resources import files

from tests.e2e.harness import RunningPlatform


def _file_closes(ticker: str, year: str) -> list[tuple[str, str]]:
    sample = files("mcp_trading") / "data" / "sample" / "stocks.csv.gz"
    with sample.open("rb") as raw, gzip.open(raw, "rt", newline="") as handle:
        return [(row["Date"], row["Close"]) for row in csv.DictReader(handle)
                if row["Ticker"] == ticker and row["Date"].startswith(year)]


def test_the_sample_imported_by_the_cli_is_served_by_market_data(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(start=False)
    imported = p.cli("data", "import", "--sample", "--json")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    listed = json.loads(p.cli("data", "list", "--json").stdout)
    assert {s["symbol"] for s in listed} == {"AAPL", "GOOGL", "IBM", "META", "MSFT"}
    p.start()
    bars = p.client("market-data").get(
        "/bars/AAPL", params={"timeframe": "1Day", "start": "2010-01-01", "end": "2010-12-31"})
    assert bars.status_code == 200, bars.text
    body = bars.json()
    assert body["source"] == "sample" and body["next_page_token"] is None
    served = [(b["t"][:10], b["c"]) for b in body["bars"]]
    expected = _file_closes("AAPL", "2010")
    assert len(expected) == 252
    # a daily bar's t is midnight New York in UTC (05:00Z in winter, 04:00Z in summer): the date
    # part is the trading day
    assert [(d, float(c)) for d, c in served] == [(d, float(c)) for d, c in expected]
    assert [c for _, c in served] == [c for _, c in expected]  # the same text, too
    history = p.client("market-data").get("/symbols", params={"history": "true"}).json()
    ibm = next(s for s in history if s["symbol"] == "IBM")
    assert ibm["history"][0]["first"].startswith("2000-")
