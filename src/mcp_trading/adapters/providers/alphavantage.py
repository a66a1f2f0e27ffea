"""Alpha Vantage (https://www.alphavantage.co/documentation/), JSON over httpx.AsyncClient.

Three functions of the documented API, each one GET on the query endpoint:

    TIME_SERIES_DAILY     symbol, outputsize=compact (latest 100 days) | full (20+ years)
                          -> {"Meta Data": {...}, "Time Series (Daily)": {"2010-01-04":
                              {"1. open": "213.43", "2. high": ..., "3. low": ...,
                               "4. close": ..., "5. volume": "17633200"}, ...}}
    TIME_SERIES_INTRADAY  symbol, interval=1min|5min|15min|30min|60min, outputsize
                          -> {"Meta Data": {..., "6. Time Zone": "US/Eastern"},
                              "Time Series (5min)": {"2024-01-02 09:30:00": {...}, ...}}
    GLOBAL_QUOTE          symbol -> {"Global Quote": {"01. symbol": "IBM", "02. open": ...,
                              "05. price": "...", "06. volume": ..., "07. latest trading day":
                              "2024-01-02", "08. previous close": ..., ...}}

Alpha Vantage answers throttling and errors with HTTP 200: a body with a `Note` or an
`Information` key is throttling (ThrottledError: the circuit opens), `Error Message` is a
permanent error of that call (an unknown symbol; a message about the `apikey` means the key is
bad: the whole provider fails). An unknown symbol's GLOBAL_QUOTE is an empty `Global Quote`.

How its answers become ours:
- daily bars are as traded (TIME_SERIES_DAILY is unadjusted): `adj_factor` is NaN; a bar's ts
  is midnight of its trading day in New York, as the history store's 1Day bars are;
- intraday bars are labelled by their start in the time zone the answer names (US/Eastern);
  the timeframes map 1Min..1Hour -> 1min..60min. Older than the trailing 30 days that
  `outputsize=full` returns is not fetched (the API's `month` parameter is not used);
- a GLOBAL_QUOTE has a price, no book: the quote has bid = ask = last = `05. price` and sizes
  0; its ts is the fetch time on the latest trading day, else that day's 16:00 New York close.

The key is a SecretStr, sent only as the `apikey` parameter; every URL this module logs or
puts in an error shows `apikey=***`, and an httpx error is re-raised without its cause (its
text could carry the URL).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import numpy as np
from pydantic import SecretStr

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.providers.base import (
    DAILY,
    INTRADAY,
    QUOTES,
    PermanentError,
    Provider,
    ProviderUnavailableError,
    ThrottledError,
)
from mcp_trading.adapters.providers.ratelimit import Clock, RateLimiter
from mcp_trading.domain.market import Quote

__all__ = ["DEFAULT_BASE_URL", "INTERVALS", "AlphaVantageProvider", "mask_key"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
#: our intraday timeframe -> Alpha Vantage's interval
INTERVALS = {"1Min": "1min", "5Min": "5min", "15Min": "15min", "30Min": "30min",
             "1Hour": "60min"}
_NS = 1_000_000_000
_NEW_YORK = ZoneInfo("America/New_York")
_CLOSE = time(16, 0)
_COMPACT_POINTS = 100
_APIKEY = re.compile(r"(?i)(apikey=)[^&\s\"']*")
_ZERO = Decimal(0)


def mask_key(text: str, key: str | None = None) -> str:
    """`text` with every `apikey=...` value, and the key itself wherever it appears, as ***."""
    text = _APIKEY.sub(r"\1***", text)
    return text.replace(key, "***") if key else text


class _MaskApiKey(logging.Filter):
    """On the `httpx` logger: its "HTTP Request: GET <url>" line would show the key (the
    platform keeps that logger at WARNING, but a test or an embedding app may not)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(mask_key(str(a)) if "apikey=" in str(a) else a
                                for a in record.args)
        if isinstance(record.msg, str) and "apikey=" in record.msg:
            record.msg = mask_key(record.msg)
        return True


def _mask_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskApiKey) for f in logger.filters):
        logger.addFilter(_MaskApiKey())


class AlphaVantageProvider(Provider):
    """Daily and intraday bars and quotes from Alpha Vantage (see the module docstring)."""

    kind = "alphavantage"
    serves = frozenset({QUOTES, DAILY, INTRADAY})
    stale_after_s = 86_400.0  # a history source: a success a day keeps it ok
    down_after_s = 7 * 86_400.0

    def __init__(self, *, api_key: SecretStr, clock: Clock, name: str = "alphavantage",
                 base_url: str = DEFAULT_BASE_URL, calls_per_minute: int | None = 5,
                 calls_per_day: int | None = 25, timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not api_key.get_secret_value():
            raise ValueError("alphavantage: the API key is empty; set "
                             "MCP_TRADING_ALPHAVANTAGE_API_KEY (or leave the provider off)")
        self.name = name
        self.clock = clock
        self.base_url = base_url
        self.rate_limit_per_min = calls_per_minute
        self.limiter = RateLimiter(name, per_minute=calls_per_minute, per_day=calls_per_day,
                                   clock=clock)
        self._key = api_key
        _mask_httpx_log()
        self._timeout = httpx.Timeout(timeout_s)
        self._transport = transport

    def __repr__(self) -> str:
        return f"AlphaVantageProvider(name={self.name!r}, base_url={self.base_url!r})"

    # ---- the three functions ------------------------------------------------------------
    async def fetch_daily(self, symbol: str, start: int | None, end: int | None) -> BarColumns:
        recent = self.clock.now_ns() - int(_COMPACT_POINTS * 1.4 * 86_400 * _NS)
        size = "compact" if start is not None and start >= recent else "full"
        body = await self._get({"function": "TIME_SERIES_DAILY", "symbol": symbol,
                                "outputsize": size})
        series = self._section(body, "Time Series (Daily)")
        return self._columns(series, start, end, lambda text: _day_ns(date.fromisoformat(text)))

    async def fetch_intraday(self, symbol: str, timeframe: str, start: int | None,
                             end: int | None) -> BarColumns:
        interval = INTERVALS.get(timeframe)
        if interval is None:
            raise PermanentError(self.name, f"timeframe {timeframe!r} is not intraday; use one "
                                 f"of {', '.join(INTERVALS)}")
        minutes = 60 if timeframe == "1Hour" else int(interval.removesuffix("min"))
        recent = self.clock.now_ns() - _COMPACT_POINTS * minutes * 60 * _NS
        size = "compact" if start is not None and start >= recent else "full"
        body = await self._get({"function": "TIME_SERIES_INTRADAY", "symbol": symbol,
                                "interval": interval, "outputsize": size})
        series = self._section(body, f"Time Series ({interval})")
        meta = body.get("Meta Data")
        zone_name = meta.get("6. Time Zone") if isinstance(meta, dict) else None
        zone = _zone(zone_name if isinstance(zone_name, str) else "US/Eastern")
        return self._columns(series, start, end, lambda text: _local_ns(text, zone))

    async def fetch_quote(self, symbol: str) -> Quote:
        body = await self._get({"function": "GLOBAL_QUOTE", "symbol": symbol})
        quote = self._section(body, "Global Quote", empty_is_unknown=symbol)
        try:
            price = Decimal(str(quote["05. price"]))
            day = date.fromisoformat(str(quote["07. latest trading day"]))
        except (KeyError, InvalidOperation, ValueError) as exc:
            raise self._down(f"GLOBAL_QUOTE for {symbol} is not the documented shape "
                             f"({type(exc).__name__}: {exc})") from None
        if not price.is_finite() or price <= 0:
            raise self._down(f"GLOBAL_QUOTE for {symbol} has price {price}; must be > 0")
        close = int(datetime.combine(day, _CLOSE, _NEW_YORK).timestamp()) * _NS
        now = self.clock.now_ns()
        ts = now if _day_ns(day) <= now < close else min(now, close)
        return Quote(str(quote.get("01. symbol", symbol)), price, price, _ZERO, _ZERO, price, ts)

    # ---- one call -------------------------------------------------------------------------
    def _masked_url(self, params: Mapping[str, str]) -> str:
        return f"{self.base_url}?{urlencode(params)}&apikey=***"

    def _down(self, text: str) -> ProviderUnavailableError:
        return ProviderUnavailableError(self.name, mask_key(text, self._key.get_secret_value()))

    async def _get(self, params: Mapping[str, str]) -> dict[str, Any]:
        """One GET, counted by the limiter; the body as a dict, or a typed error."""
        if self.limiter is not None:
            self.limiter.acquire()
        shown = self._masked_url(params)
        query = {**params, "apikey": self._key.get_secret_value()}
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as http:
                response = await http.get(self.base_url, params=query)
        except httpx.TimeoutException:
            raise self._down(f"timed out calling {shown}") from None
        except httpx.HTTPError as exc:
            raise self._down(f"{type(exc).__name__} calling {shown}") from None
        log.info("alphavantage GET %s -> HTTP %d", shown, response.status_code)
        if response.status_code == 429:
            raise ThrottledError(self.name, f"HTTP 429 from {shown}")
        if response.status_code != 200:
            raise self._down(f"HTTP {response.status_code} from {shown}")
        try:
            body = response.json()
        except ValueError:
            raise self._down(f"the answer of {shown} is not JSON") from None
        if not isinstance(body, dict):
            raise self._down(f"the answer of {shown} is not a JSON object")
        self._raise_for_body(body, shown)
        return body

    def _raise_for_body(self, body: dict[str, Any], shown: str) -> None:
        key = self._key.get_secret_value()
        for field in ("Note", "Information"):
            if field in body:
                raise ThrottledError(self.name, f"throttled ({field}: "
                                f"{mask_key(str(body[field]), key)[:200]})")
        if "Error Message" in body:
            message = mask_key(str(body["Error Message"]), key)[:300]
            if "apikey" in message.lower():
                raise PermanentError(self.name, f"{shown} answered: {message} (check "
                                     "MCP_TRADING_ALPHAVANTAGE_API_KEY)", scope="provider")
            raise PermanentError(self.name, f"{shown} answered: {message} (check the symbol and "
                                 "the parameters)")

    def _section(self, body: dict[str, Any], name: str, *,
                 empty_is_unknown: str | None = None) -> dict[str, Any]:
        section = body.get(name)
        if empty_is_unknown is not None and section == {}:
            raise PermanentError(self.name, f"no quote for symbol {empty_is_unknown!r} (Alpha "
                                 "Vantage knows no such symbol)")
        if not isinstance(section, dict):
            raise self._down(f"the answer has no {name!r} object (keys: "
                             f"{', '.join(sorted(body))[:200]})")
        return section

    def _columns(self, series: dict[str, Any], start: int | None, end: int | None,
                 ts_of: Callable[[str], int]) -> BarColumns:
        rows: list[tuple[int, float, float, float, float, float]] = []
        try:
            for stamp, bar in series.items():
                ts = ts_of(stamp)
                if (start is not None and ts < start) or (end is not None and ts > end):
                    continue
                rows.append((ts, float(bar["1. open"]), float(bar["2. high"]),
                             float(bar["3. low"]), float(bar["4. close"]),
                             float(bar.get("5. volume", math.nan))))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._down(f"a bar is not the documented shape "
                             f"({type(exc).__name__}: {exc})") from None
        rows.sort()
        return _to_columns(rows)


def _to_columns(rows: list[tuple[int, float, float, float, float, float]]) -> BarColumns:
    ts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    cols = [np.fromiter((r[i] for r in rows), dtype=np.float64, count=len(rows))
            for i in range(1, 6)]
    opens, highs, lows, closes, volumes = cols
    return BarColumns(ts, opens, highs, lows, closes, volumes, np.full(len(rows), np.nan))


def _day_ns(day: date) -> int:
    """Midnight of `day` in New York, in ns since the epoch (the store's 1Day ts)."""
    return int(datetime.combine(day, time(0), _NEW_YORK).timestamp()) * _NS


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return _NEW_YORK


def _local_ns(text: str, zone: ZoneInfo) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()) * _NS

