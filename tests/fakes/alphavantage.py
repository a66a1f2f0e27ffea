"""A local Alpha Vantage of our own: the documented JSON of TIME_SERIES_DAILY,
TIME_SERIES_INTRADAY and GLOBAL_QUOTE, throttle and error bodies included, on 127.0.0.1.

Its daily data is real: the public-domain Quandl WIKI prices shipped as the platform's
sample (`src/mcp_trading/data/sample/stocks.csv.gz`; the file's tickers, GOOG and FB not
renamed). Intraday bars exist only where a
test puts them (`fake.intraday[(symbol, "5min")] = [...]`): no prices are made up.

Scriptable per test:
    fake.throttle_next(n, field="Note" | "Information")   the next n calls answer throttled
    fake.fail_next(n, status=503)                         the next n calls answer HTTP status
    fake.error_for("XYZ", message)                        calls for XYZ answer Error Message
    fake.as_of = "2010-01-08"                             the fake's today: no later rows
    fake.calls                                            every call's parameters (apikey
                                                          replaced by whether it matched)
Nothing here reaches the internet.
"""

from __future__ import annotations

import csv
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["NOTE", "FakeAlphaVantage", "running_fake"]

SAMPLE = Path(__file__).resolve().parents[2] / "src/mcp_trading/data/sample/stocks.csv.gz"
NOTE = ("Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per "
        "minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you "
        "would like to target a higher API call frequency.")
INFORMATION = ("Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests "
               "per day. Please subscribe to any of the premium plans at "
               "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.")
BAD_KEY = ("the parameter apikey is invalid or missing. Please claim your free API key on "
           "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.")

Row = tuple[str, str, str, str, str, str]  # date-or-stamp, open, high, low, close, volume


def _daily_rows() -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {}
    with gzip.open(SAMPLE, "rt", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # Ticker,Date,Open,High,Low,Close,Volume,Adj Close
        for ticker, day, o, h, lo, c, v, *_ in reader:
            rows.setdefault(ticker, []).append((day, o, h, lo, c, v))
    return rows


def _bar(row: Row) -> dict[str, str]:
    _, o, h, lo, c, v = row
    return {"1. open": o, "2. high": h, "3. low": lo, "4. close": c, "5. volume": v}


class FakeAlphaVantage:
    """The fake's state and its Starlette app (see the module docstring)."""

    def __init__(self, key: str = "fake-av-key-0123456789", *, as_of: str | None = None) -> None:
        self.key = key
        self.as_of = as_of  # the fake's "today" (ISO date): later rows are not served yet
        self.daily = _daily_rows()
        self.intraday: dict[tuple[str, str], list[Row]] = {}
        self.calls: list[dict[str, Any]] = []
        self._throttle: list[str] = []
        self._fail: list[int] = []
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/query", self._query)])

    # ---- scripting ------------------------------------------------------------------------
    def throttle_next(self, n: int = 1, *, field: str = "Note") -> None:
        with self._lock:
            self._throttle += [field] * n

    def fail_next(self, n: int = 1, *, status: int = 503) -> None:
        with self._lock:
            self._fail += [status] * n

    def error_for(self, symbol: str, message: str) -> None:
        self._errors[symbol] = message

    # ---- the API --------------------------------------------------------------------------
    async def _query(self, request: Request) -> Response:
        params = dict(request.query_params)
        key_ok = params.pop("apikey", None) == self.key
        self.calls.append({**params, "key_ok": key_ok})
        with self._lock:
            status = self._fail.pop(0) if self._fail else None
            throttled = self._throttle.pop(0) if self._throttle and status is None else None
        if status is not None:
            return Response("Service Unavailable", status_code=status)
        if throttled is not None:
            return JSONResponse({throttled: NOTE if throttled == "Note" else INFORMATION})
        if not key_ok:
            return JSONResponse({"Error Message": BAD_KEY})
        return JSONResponse(self._answer(params))

    def _answer(self, params: dict[str, str]) -> dict[str, Any]:
        function, symbol = params.get("function", ""), params.get("symbol", "")
        if symbol in self._errors:
            return {"Error Message": self._errors[symbol]}
        invalid = {"Error Message": "Invalid API call. Please retry or visit the documentation "
                                    f"(https://www.alphavantage.co/documentation/) for {function}."}
        compact = params.get("outputsize", "compact") != "full"
        if function == "TIME_SERIES_DAILY":
            rows = self._daily(symbol)
            if not rows:
                return invalid
            shown = rows[-100:] if compact else rows
            return {"Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and "
                                                    "Volumes", "2. Symbol": symbol,
                                  "3. Last Refreshed": rows[-1][0],
                                  "4. Output Size": "Compact" if compact else "Full size",
                                  "5. Time Zone": "US/Eastern"},
                    "Time Series (Daily)": {r[0]: _bar(r) for r in reversed(shown)}}
        if function == "TIME_SERIES_INTRADAY":
            interval = params.get("interval", "")
            rows = self.intraday.get((symbol, interval))
            if rows is None:
                return invalid
            shown = rows[-100:] if compact else rows
            return {"Meta Data": {"1. Information": f"Intraday ({interval}) open, high, low, "
                                                    "close prices and volume",
                                  "2. Symbol": symbol, "3. Last Refreshed": rows[-1][0],
                                  "4. Interval": interval,
                                  "5. Output Size": "Compact" if compact else "Full size",
                                  "6. Time Zone": "US/Eastern"},
                    f"Time Series ({interval})": {r[0]: _bar(r) for r in reversed(shown)}}
        if function == "GLOBAL_QUOTE":
            return {"Global Quote": self._global_quote(symbol)}
        return invalid

    def _daily(self, symbol: str) -> list[Row]:
        rows = self.daily.get(symbol, [])
        return rows if self.as_of is None else [r for r in rows if r[0] <= self.as_of]

    def _global_quote(self, symbol: str) -> dict[str, str]:
        rows = self._daily(symbol)
        if not rows:
            return {}  # what Alpha Vantage answers for a symbol it does not know
        day, o, h, lo, c, v = rows[-1]
        previous = rows[-2][4] if len(rows) > 1 else c
        change = float(c) - float(previous)
        return {"01. symbol": symbol, "02. open": o, "03. high": h, "04. low": lo,
                "05. price": c, "06. volume": v, "07. latest trading day": day,
                "08. previous close": previous, "09. change": f"{change:.4f}",
                "10. change percent": f"{100 * change / float(previous):.4f}%"}


@contextmanager
def running_fake(fake: FakeAlphaVantage | None = None) -> Iterator[tuple[FakeAlphaVantage, str]]:
    """Serve `fake` on 127.0.0.1 (a free port) in a thread; yields it and its query URL."""
    fake = fake or FakeAlphaVantage()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield fake, f"http://127.0.0.1:{port}/query"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
