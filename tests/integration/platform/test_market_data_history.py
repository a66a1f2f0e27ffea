"""market-data :8001 serving stored history: real AAPL 2010 daily bars on memory, SQLite, PostgreSQL.

The bars are the Quandl WIKI prices of the shipped sample (bokeh-sampledata's stocks.csv.gz),
AAPL's 252 trading days of 2010, in data/aapl-2010.csv as the file has them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from starlette.testclient import TestClient
from tests.integration.platform.test_market_data_api import (
    MINUTE,
    T0,
    VIEWER,
    Harness,
    ViewerAuthenticator,
    close_platform,
    quote,
)

from mcp_trading.adapters.history import (
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    MemoryHistoryStore,
    open_history_store,
)
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap, in_memory
from mcp_trading.services.market_data import rest as market_data

ROWS = list(csv.DictReader((Path(__file__).parent / "data" / "aapl-2010.csv").open()))
NEW_YORK = ZoneInfo("America/New_York")
YEAR = {"timeframe": "1Day", "start": "2010-01-01", "end": "2010-12-31"}


def day_ts(day: str) -> int:
    """A daily bar's ts: midnight of the trading day in New York."""
    return int(datetime.fromisoformat(day).replace(tzinfo=NEW_YORK).timestamp()) * 10**9


def columns(rows: list[dict[str, str]], *, adjusted: bool = True) -> BarColumns:
    def col(name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.array([float(r[name]) for r in rows])

    close = col("Close")
    factor = col("Adj Close") / close if adjusted else np.full(len(rows), np.nan)
    return BarColumns(np.array([day_ts(r["Date"]) for r in rows], dtype=np.int64), col("Open"),
                      col("High"), col("Low"), close, col("Volume"), factor)


def seed(store: HistoryStore, symbol: str, source: str, rows: list[dict[str, str]], *,
         adjusted: bool = True) -> None:
    with store.writer() as writer:
        writer.add(symbol, source, "1Day", columns(rows, adjusted=adjusted))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    if request.param == "memory":
        opened: HistoryStore = MemoryHistoryStore()
    elif request.param == "sqlite":
        opened = open_history_store(f"sqlite:///{tmp_path / 'history.db'}")
    else:
        opened = open_history_store(str(request.getfixturevalue("postgres_schema_url")))
    seed(opened, "AAPL", "sample", ROWS)
    yield opened
    opened.close()


@pytest.fixture
def harness(store: HistoryStore, tmp_path: Path) -> Iterator[Harness]:
    platform = bootstrap(Settings(data_dir=tmp_path, database_url=None),
                         authenticator=ViewerAuthenticator(), history=store)
    platform.open()
    try:
        with TestClient(market_data.build(platform)) as client:
            h = Harness(platform, client)
            h.start()
            yield h
            h.stop()
    finally:
        close_platform(platform)


@pytest.fixture
def client(harness: Harness) -> TestClient:
    return harness.client


def get(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(path, params=params, headers=VIEWER)
    assert response.status_code == 200, response.json()
    return response.json()


# ---- reading a year ------------------------------------------------------------------------
def test_the_2010_daily_bars_are_the_source_files_prices(client: TestClient) -> None:
    body = get(client, "/bars/AAPL", **YEAR)

    assert (body["symbol"], body["timeframe"], body["source"]) == ("AAPL", "1Day", "sample")
    assert (body["adjustment"], body["adjusted"], body["note"]) == ("raw", False, None)
    assert body["next_page_token"] is None
    bars = body["bars"]
    assert len(bars) == 252
    assert [(b["o"], b["h"], b["l"], b["c"], b["v"]) for b in bars] == [
        (r["Open"], r["High"], r["Low"], r["Close"], r["Volume"]) for r in ROWS]
    assert bars[0] == {"t": "2010-01-04T05:00:00.000000Z", "o": "213.43", "h": "214.5",
                       "l": "212.38", "c": "214.01", "v": "17633200", "n": None}
    assert bars[-1]["t"] == "2010-12-31T05:00:00.000000Z"  # midnight in New York, EST


def test_an_end_date_takes_in_that_whole_day(client: TestClient) -> None:
    one = get(client, "/bars/AAPL", timeframe="1Day", start="2010-12-31", end="2010-12-31")
    assert [b["c"] for b in one["bars"]] == ["322.56"]
    summer = get(client, "/bars/AAPL", timeframe="1Day", start="2010-07-01T00:00:00Z",
                 end="2010-07-01")
    assert [b["t"] for b in summer["bars"]] == ["2010-07-01T04:00:00.000000Z"]  # EDT


def test_without_start_the_latest_bars_up_to_end_answer(client: TestClient) -> None:
    body = get(client, "/bars/AAPL", timeframe="1Day", end="2010-06-30", limit="3")
    assert [b["t"][:10] for b in body["bars"]] == ["2010-06-28", "2010-06-29", "2010-06-30"]
    assert body["next_page_token"] is None


def test_paging_through_a_year_returns_every_bar_once(client: TestClient) -> None:
    pages: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        params = {**YEAR, "limit": "50", **({"page_token": token} if token else {})}
        body = get(client, "/bars/AAPL", **params)
        pages.append(body["bars"])
        token = body["next_page_token"]
        if token is None:
            break
    assert [len(p) for p in pages] == [50, 50, 50, 50, 50, 2]
    times = [b["t"] for page in pages for b in page]
    assert len(set(times)) == len(times) == 252
    assert times == [b["t"] for b in get(client, "/bars/AAPL", **YEAR)["bars"]]


def test_the_page_size_may_change_between_pages(client: TestClient) -> None:
    first = get(client, "/bars/AAPL", **YEAR, limit="10")
    rest = get(client, "/bars/AAPL", **YEAR, limit="1000", page_token=first["next_page_token"])
    assert len(first["bars"]) + len(rest["bars"]) == 252
    assert rest["bars"][0]["t"][:10] == "2010-01-19"  # the 11th trading day


@pytest.mark.parametrize("changed", [{"end": "2010-11-30"}, {"adjustment": "all"},
                                     {"timeframe": "1Hour"}, {"source": "sample"}])
def test_a_token_used_with_other_parameters_is_422(client: TestClient,
                                                   changed: dict[str, str]) -> None:
    token = get(client, "/bars/AAPL", **YEAR, limit="10")["next_page_token"]
    response = client.get("/bars/AAPL", params={**YEAR, **changed, "page_token": token},
                          headers=VIEWER)
    assert response.status_code == 422
    body = response.json()
    assert (body["field"], body["code"]) == ("page_token", "INVALID_PAGE_TOKEN")
    assert "another query" in body["message"]


# ---- adjustment ----------------------------------------------------------------------------
def test_adjustment_all_applies_the_stored_factor(client: TestClient) -> None:
    body = get(client, "/bars/AAPL", **YEAR, adjustment="all")
    assert (body["adjustment"], body["adjusted"], body["note"]) == ("all", True, None)
    closes = [float(b["c"]) for b in body["bars"]]
    assert closes == pytest.approx([float(r["Adj Close"]) for r in ROWS], rel=1e-12)
    first = body["bars"][0]
    assert first["c"] == "27.503267796595"  # the file's Adj Close, with no float noise
    assert float(first["o"]) == pytest.approx(213.43 * 27.503267796595 / 214.01, rel=1e-12)


def test_adjustment_all_without_a_factor_says_the_prices_are_raw(harness: Harness,
                                                                 store: HistoryStore) -> None:
    seed(store, "AAPL", "import:raw-only", ROWS[:5], adjusted=False)
    body = get(harness.client, "/bars/AAPL", **YEAR, adjustment="all", source="import:raw-only")
    assert (body["source"], body["adjusted"]) == ("import:raw-only", False)
    assert "no adjustment factor is known" in body["note"]
    assert [b["c"] for b in body["bars"]] == [r["Close"] for r in ROWS[:5]]


# ---- sources -------------------------------------------------------------------------------
def test_an_explicit_source_reads_that_source_only(harness: Harness, store: HistoryStore) -> None:
    seed(store, "AAPL", "import:jan", ROWS[:3])
    body = get(harness.client, "/bars/AAPL", **YEAR, source="import:jan")
    assert body["source"] == "import:jan"
    assert len(body["bars"]) == 3


def test_the_stored_source_that_serves_the_timeframe_is_chosen(harness: Harness,
                                                               store: HistoryStore) -> None:
    # 1-minute bars of one session (2010-01-04, 09:30-10:29 New York) from another import
    opens = day_ts("2010-01-04") + (9 * 60 + 30) * MINUTE
    prices = np.array([213.43 + m / 100 for m in range(60)])
    nan = np.full(60, np.nan)
    with store.writer() as writer:
        writer.add("AAPL", "import:minutes", "1Min", BarColumns(
            opens + np.arange(60, dtype=np.int64) * MINUTE, prices, prices + 0.5, prices - 0.5,
            prices, np.full(60, 100.0), nan))

    hourly = get(harness.client, "/bars/AAPL", timeframe="1Hour", start="2010-01-04",
                 end="2010-01-04")
    assert hourly["source"] == "import:minutes"  # rolled up: 14:00Z holds 09:30-09:59
    assert [(b["t"][11:16], b["o"], b["c"], b["v"]) for b in hourly["bars"]] == [
        ("14:00", "213.43", "213.72", "3000"), ("15:00", "213.73", "214.02", "3000")]
    assert get(harness.client, "/bars/AAPL", **YEAR)["source"] == "sample"  # covers the year


def test_a_source_with_no_bars_is_404_naming_the_stored_ones(client: TestClient) -> None:
    response = client.get("/bars/AAPL", params={**YEAR, "source": "nowhere"}, headers=VIEWER)
    assert response.status_code == 404
    assert "sample" in response.json()["message"]


def test_the_live_feeds_name_as_source_asks_for_live_bars(harness: Harness) -> None:
    harness.feed(quote(last="100.00", ts=T0), quote(last="101.00", ts=T0 + MINUTE), kernel=False)
    body = get(harness.client, "/bars/AAPL", source="simulator", timeframe="1Day")
    assert body["source"] == "simulator"
    assert [(b["t"], b["o"], b["n"]) for b in body["bars"]] == [
        ("2026-01-01T00:00:00.000000Z", "100.00", 1)]  # always_open: the UTC day


def test_a_timeframe_history_cannot_serve_falls_back_to_live_bars(harness: Harness) -> None:
    harness.feed(quote(last="100.00", ts=T0), quote(last="101.00", ts=T0 + MINUTE), kernel=False)
    body = get(harness.client, "/bars/AAPL", timeframe="1Hour")  # only 1Day is stored
    assert (body["source"], [b["o"] for b in body["bars"]]) == ("simulator", ["100.00"])


def test_live_bars_page_by_token_too(harness: Harness) -> None:
    harness.feed(*[quote(last=f"{100 + m}.00", ts=T0 + m * MINUTE) for m in range(13)],
                 kernel=False)
    seen: list[str] = []
    token = None
    for _ in range(5):
        params = {"start": "2026-01-01", "limit": "5", **({"page_token": token} if token else {})}
        body = get(harness.client, "/bars/AAPL", **params)
        seen += [b["o"] for b in body["bars"]]
        token = body["next_page_token"]
        if token is None:
            break
    assert seen == [f"{100 + m}.00" for m in range(12)]  # the 13th minute is still building


@pytest.mark.parametrize(("params", "field", "fragment"), [
    ({"timeframe": "1Week"}, "timeframe", "1Hour, 1Day"),
    ({"adjustment": "split"}, "adjustment", "raw"),
    ({"start": "2010-02-30"}, "start", "ISO 8601"),
    ({"end": "31/12/2010"}, "end", "ISO 8601"),
    ({"page_token": "not-a-token"}, "page_token", "next_page_token"),
    ({"limit": "10001", "timeframe": "1Day"}, "limit", "1 to 10000"),
])
def test_bad_history_parameters_are_422_naming_the_field(client: TestClient,
                                                         params: dict[str, str], field: str,
                                                         fragment: str) -> None:
    response = client.get("/bars/AAPL", params=params, headers=VIEWER)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert fragment in body["message"]


# ---- symbols known from history ------------------------------------------------------------
def register_history_only(store: HistoryStore) -> None:
    store.register_instruments([HistoryInstrument("WIKI", "0.01", "1", "import:wiki", 1)])
    seed(store, "WIKI", "import:wiki", ROWS[:2])


def test_symbols_with_history_lists_series_and_history_only_symbols(harness: Harness,
                                                                    store: HistoryStore) -> None:
    register_history_only(store)
    plain = get(harness.client, "/symbols")
    assert len(plain) == 20 and "history" not in plain[0]  # without history=true: as before

    listed = {row["symbol"]: row for row in get(harness.client, "/symbols", history="true")}
    assert len(listed) == 21
    assert listed["AAPL"]["history"] == [
        {"source": "sample", "timeframe": "1Day", "first": "2010-01-04T05:00:00.000000Z",
         "last": "2010-12-31T05:00:00.000000Z", "bars": 252}]
    assert listed["AAPL"]["history_only"] is False
    assert listed["MSFT"]["history"] == []
    wiki = listed["WIKI"]
    assert (wiki["history_only"], wiki["tradable"], wiki["tick_size"]) == (True, False, "0.01")
    assert [s["bars"] for s in wiki["history"]] == [2]


def test_a_history_only_symbol_serves_its_bars_but_no_quotes(harness: Harness,
                                                             store: HistoryStore) -> None:
    register_history_only(store)
    body = get(harness.client, "/bars/WIKI", **YEAR)
    assert [b["c"] for b in body["bars"]] == ["214.01", "214.38"]

    minute = harness.client.get("/bars/WIKI", params={"timeframe": "1Min"}, headers=VIEWER)
    assert minute.status_code == 404
    assert minute.json()["code"] == "NO_BARS"
    assert "1Day (import:wiki)" in minute.json()["message"]
    quoted = harness.client.get("/quotes/WIKI", headers=VIEWER)
    assert quoted.status_code == 404
    assert "stored history only" in quoted.json()["message"]
    assert harness.client.get("/bars/NOPE", headers=VIEWER).status_code == 404


def test_history_lists_the_stored_series(harness: Harness, store: HistoryStore) -> None:
    register_history_only(store)
    series = get(harness.client, "/history")["series"]
    assert [(s["symbol"], s["source"], s["bars"]) for s in series] == [
        ("AAPL", "sample", 252), ("WIKI", "import:wiki", 2)]
    assert [s["symbol"] for s in get(harness.client, "/history", symbol="wiki")["series"]] == [
        "WIKI"]


# ---- the platform's store ------------------------------------------------------------------
def test_the_in_memory_platform_has_a_memory_history_store() -> None:
    platform = in_memory()
    try:
        assert isinstance(platform.history.store(), MemoryHistoryStore)
    finally:
        close_platform(platform)


def test_the_history_store_opens_on_first_use_and_closes_with_the_platform(
        tmp_path: Path) -> None:
    platform = bootstrap(Settings(data_dir=tmp_path), authenticator=ViewerAuthenticator())
    platform.open()
    assert not (tmp_path / "history.db").exists()  # nothing opened it yet
    with TestClient(market_data.build(platform)) as client:
        assert get(client, "/history") == {"series": []}
        assert (tmp_path / "history.db").exists()
        client.portal.call(platform.stop)
    response = TestClient(market_data.build(platform)).get("/history", headers=VIEWER)
    assert response.status_code == 503
    assert response.json()["code"] == "HISTORY_CLOSED"
