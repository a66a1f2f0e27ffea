"""The Alpha Vantage adapter against the project's local fake of the documented API."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from tests.fakes.alphavantage import FakeAlphaVantage, running_fake

from mcp_trading.adapters.providers.alphavantage import AlphaVantageProvider, mask_key
from mcp_trading.adapters.providers.base import (
    PermanentError,
    ProviderUnavailableError,
    ThrottledError,
)
from mcp_trading.clocks import ManualClock

S = 1_000_000_000
NY = ZoneInfo("America/New_York")
KEY = "fake-av-key-0123456789"


def ny(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NY).timestamp()) * S


@pytest.fixture
def fake() -> Iterator[tuple[FakeAlphaVantage, str]]:
    with running_fake(FakeAlphaVantage(KEY)) as served:
        yield served


def provider(url: str, clock: ManualClock | None = None, key: str = KEY,
             per_minute: int | None = 5) -> AlphaVantageProvider:
    return AlphaVantageProvider(api_key=SecretStr(key), clock=clock or ManualClock(),
                                base_url=url, calls_per_minute=per_minute, calls_per_day=25)


def test_daily_bars_are_the_source_files_prices_at_new_york_midnight(
        fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    bars = asyncio.run(provider(url).fetch_daily("AAPL", ny("2010-01-04 00:00"),
                                                 ny("2010-01-08 00:00")))
    assert bars.ts.tolist() == [ny(f"2010-01-0{d} 00:00") for d in (4, 5, 6, 7, 8)]
    assert bars.close.tolist() == [214.01, 214.38, 210.97, 210.58, 211.98]
    assert bars.open[0] == 213.43 and bars.high[0] == 214.5 and bars.low[0] == 212.38
    assert bars.volume[0] == 17633200
    assert all(math.isnan(f) for f in bars.adj_factor)  # TIME_SERIES_DAILY is as traded
    assert av.calls == [{"function": "TIME_SERIES_DAILY", "symbol": "AAPL", "outputsize": "full",
                         "key_ok": True}]


def test_a_recent_range_asks_for_the_compact_output() -> None:
    with running_fake(FakeAlphaVantage(KEY)) as (av, url):
        clock = ManualClock(ny("2010-01-30 12:00"))
        asyncio.run(provider(url, clock).fetch_daily("IBM", ny("2010-01-04 00:00"), None))
    assert av.calls[0]["outputsize"] == "compact"


def test_intraday_bars_are_labelled_by_their_start_in_eastern_time(
        fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    # rows a test puts in (the fake makes up no prices)
    av.intraday[("IBM", "5min")] = [("2024-01-02 09:30:00", "162.83", "163.2", "162.5", "163.0",
                                     "120000"),
                                    ("2024-01-02 09:35:00", "163.0", "163.1", "162.7", "162.9",
                                     "80000")]
    bars = asyncio.run(provider(url).fetch_intraday("IBM", "5Min", None, None))
    assert bars.ts.tolist() == [ny("2024-01-02 09:30"), ny("2024-01-02 09:35")]
    assert bars.close.tolist() == [163.0, 162.9]
    assert av.calls[0]["interval"] == "5min"
    with pytest.raises(PermanentError, match="'1Day' is not intraday"):
        asyncio.run(provider(url).fetch_intraday("IBM", "1Day", None, None))


def test_a_global_quote_has_the_price_on_both_sides_and_its_days_close_time(
        fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    av.as_of = "2010-01-08"
    quote = asyncio.run(provider(url).fetch_quote("IBM"))  # the clock is long after that day
    assert (quote.symbol, quote.bid, quote.ask, quote.last) == (
        "IBM", Decimal("130.85"), Decimal("130.85"), Decimal("130.85"))
    assert quote.bid_size == 0
    assert quote.ts == ny("2010-01-08 16:00")


def test_note_and_information_bodies_are_throttling(fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    av.throttle_next(1, field="Note")
    av.throttle_next(1, field="Information")
    p = provider(url)
    with pytest.raises(ThrottledError, match="Note: Thank you"):
        asyncio.run(p.fetch_quote("IBM"))
    with pytest.raises(ThrottledError, match="Information: Thank you"):
        asyncio.run(p.fetch_quote("IBM"))
    assert asyncio.run(p.fetch_quote("IBM")).symbol == "IBM"


def test_error_message_is_permanent_for_the_call_and_a_bad_key_for_the_provider(
        fake: tuple[FakeAlphaVantage, str]) -> None:
    _, url = fake
    with pytest.raises(PermanentError, match="Invalid API call") as unknown:
        asyncio.run(provider(url).fetch_daily("NOPE", None, None))
    assert unknown.value.scope == "call"
    with pytest.raises(PermanentError, match="no quote for symbol 'NOPE'") as no_quote:
        asyncio.run(provider(url).fetch_quote("NOPE"))
    assert no_quote.value.scope == "call"
    with pytest.raises(PermanentError, match="MCP_TRADING_ALPHAVANTAGE_API_KEY") as bad:
        asyncio.run(provider(url, key="wrong-key-abcdef").fetch_quote("IBM"))
    assert bad.value.scope == "provider"


def test_http_errors_and_an_unreachable_server_are_unavailable(
        fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    av.fail_next(1, status=503)
    with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
        asyncio.run(provider(url).fetch_quote("IBM"))
    with pytest.raises(ProviderUnavailableError, match="ConnectError"):
        asyncio.run(provider("http://127.0.0.1:9/query").fetch_quote("IBM"))


def test_the_client_side_limit_refuses_before_calling(fake: tuple[FakeAlphaVantage, str]) -> None:
    av, url = fake
    p = provider(url, per_minute=2)
    asyncio.run(p.fetch_quote("IBM"))
    asyncio.run(p.fetch_quote("IBM"))
    with pytest.raises(ThrottledError, match="client-side limit of 2 calls per minute"):
        asyncio.run(p.fetch_quote("IBM"))
    assert len(av.calls) == 2
    assert p.calls_left() == {"minute": 0, "day": 23}


def test_the_key_never_appears_in_errors_logs_or_repr(
        fake: tuple[FakeAlphaVantage, str], caplog: pytest.LogCaptureFixture) -> None:
    av, url = fake
    secret = "wrong-key-SEKRET-987"
    caplog.set_level(logging.DEBUG)
    p = provider(url, key=secret)
    av.error_for("ECHO", f"your apikey={secret} is odd")  # a body that echoes the key
    messages = []
    for symbol in ("IBM", "ECHO"):
        with pytest.raises(PermanentError) as caught:
            asyncio.run(p.fetch_quote(symbol))
        messages.append(str(caught.value))
    av.fail_next(1)
    with pytest.raises(ProviderUnavailableError) as down:
        asyncio.run(p.fetch_quote("IBM"))
    messages.append(str(down.value))
    assert all(secret not in m for m in messages), messages
    assert "apikey=***" in messages[-1]
    assert secret not in caplog.text and "apikey=***" in caplog.text
    assert secret not in repr(p) and secret not in str(vars(p))


def test_mask_key_hides_the_parameter_and_the_bare_key() -> None:
    assert mask_key("GET /query?function=X&apikey=abc123&symbol=IBM") == (
        "GET /query?function=X&apikey=***&symbol=IBM")
    assert mask_key("key abc123 leaked", "abc123") == "key *** leaked"
