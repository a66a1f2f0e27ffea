"""market-data :8001 over a real opened Platform: quotes, symbols, clock, bars, the stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mcp_trading.adapters.calendars import NyseCalendar
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data import rest as market_data
from mcp_trading.services.market_data.service import MarketDataService, background

VIEWER = {"Authorization": "Bearer k1"}
MINUTE = 60_000_000_000
T0 = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z


class ViewerAuthenticator:
    """Any Authorization header is a viewer; none is no credential. Records loopback_trust."""

    def __init__(self) -> None:
        self.loopback_trust: list[bool] = []

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        self.loopback_trust.append(loopback_trust)
        if authorization_header is None and api_key is None:
            return None
        return Principal(Role.VIEWER, "k1", None, "test")


def quote(symbol: str = "AAPL", last: str | None = "100.01", ts: int | None = None, *,
          bid: str = "100.00", ask: str = "100.02") -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), Decimal(300), Decimal(500),
                 None if last is None else Decimal(last), time.time_ns() if ts is None else ts)


def open_platform(data_dir: Path) -> Platform:
    platform = bootstrap(Settings(data_dir=data_dir, database_url=None),
                         authenticator=ViewerAuthenticator())
    platform.open()
    return platform


def close_platform(platform: Platform) -> None:
    if platform.runtime is not None:
        platform.runtime.close()
    if platform.projector is not None:
        platform.projector.stop()


class Harness:
    """A TestClient whose event loop also runs the service's background task."""

    def __init__(self, platform: Platform, client: TestClient) -> None:
        self.platform = platform
        self.client = client
        self.svc = MarketDataService.for_platform(platform)

    def start(self) -> None:
        """What the platform's start does with the spec's task (run on the client's loop)."""
        async def started() -> None:
            self._task = asyncio.create_task(self.svc.run())
            while self.svc._active is None:
                await asyncio.sleep(0.001)

        self.client.portal.call(started)

    def feed(self, *quotes: Quote, kernel: bool = True) -> None:
        """What the platform's pump does: the kernel, the feed time, every listener."""

        async def push() -> None:
            for q in quotes:
                if kernel:
                    self.platform.kernel_runtime.kernel.on_quote(q)
                for queue in self.platform.quote_listeners:
                    queue.put_nowait(q)
            self.platform.last_quote_ns = quotes[-1].ts
            while any(not q.empty() for q in self.platform.quote_listeners):
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.01)

        self.client.portal.call(push)

    def stop(self) -> None:
        self.client.portal.call(self.svc.stop)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = open_platform(tmp_path)
    yield platform
    close_platform(platform)


@pytest.fixture
def harness(platform: Platform) -> Iterator[Harness]:
    with TestClient(market_data.build(platform)) as client:
        h = Harness(platform, client)
        h.start()
        yield h
        h.stop()


@pytest.fixture
def client(harness: Harness) -> TestClient:
    return harness.client


# ---- health ------------------------------------------------------------------------------
def test_health_is_public_and_down_before_any_quote(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "down"
    assert body["market_data_status"] == "down"
    assert body["symbols"] == 20
    assert body["symbols_quoted"] == 0
    assert body["last_tick_age_s"] is None
    assert body["last_tick_at"] is None


@pytest.mark.parametrize(("feed_status", "status"),
                         [("streaming", "healthy"), ("stale", "degraded"), ("down", "down")])
def test_health_status_follows_the_feed(harness: Harness, feed_status: str, status: str) -> None:
    harness.feed(quote())
    harness.platform.health.feed_status = feed_status
    harness.platform.health.feed_age_s = 0.25
    body = harness.client.get("/health").json()
    assert (body["status"], body["market_data_status"]) == (status, feed_status)
    assert body["last_tick_age_s"] == 0.25
    assert body["symbols_quoted"] == 1
    assert body["bars"]["aggregating"] is True


@pytest.mark.parametrize("path", ["/quotes/AAPL", "/quotes", "/symbols", "/clock", "/bars/AAPL",
                                  "/metrics"])
def test_every_route_but_health_needs_a_credential(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


# ---- quotes ------------------------------------------------------------------------------
def test_latest_quote_of_one_symbol(harness: Harness) -> None:
    q = quote("MSFT", "420.01", bid="420.00", ask="420.02")
    harness.feed(q)
    response = harness.client.get("/quotes/msft", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert body == {"symbol": "MSFT", "bid": "420.00", "ask": "420.02", "bid_size": "300",
                    "ask_size": "500", "last": "420.01", "ts": body["ts"]}
    assert body["ts"].endswith("Z")


def test_a_known_symbol_without_a_quote_is_404_no_quote_yet(client: TestClient) -> None:
    response = client.get("/quotes/AAPL", headers=VIEWER)
    assert response.status_code == 404
    assert response.json()["code"] == "NO_QUOTE"
    assert "no quote yet for AAPL" in response.json()["message"]


def test_an_unknown_symbol_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/quotes/ZZZZ", headers=VIEWER)
    assert response.status_code == 404
    assert response.json()["code"] == "UNKNOWN_SYMBOL"
    assert "'ZZZZ'" in response.json()["message"]


def test_many_quotes_list_the_quoted_and_the_missing(harness: Harness) -> None:
    harness.feed(quote("AAPL"))
    body = harness.client.get("/quotes", params={"symbols": "AAPL, msft,AAPL"},
                              headers=VIEWER).json()
    assert list(body["quotes"]) == ["AAPL"]
    assert body["quotes"]["AAPL"]["symbol"] == "AAPL"
    assert body["missing"] == ["MSFT"]


def test_many_quotes_without_symbols_cover_every_symbol(harness: Harness) -> None:
    harness.feed(quote("AAPL"))
    body = harness.client.get("/quotes", headers=VIEWER).json()
    assert list(body["quotes"]) == ["AAPL"]
    assert len(body["missing"]) == 19


def test_many_quotes_with_unknown_symbols_is_422_naming_them(client: TestClient) -> None:
    response = client.get("/quotes", params={"symbols": "AAPL,NOPE,ZZZ"}, headers=VIEWER)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "symbols"
    assert body["unknown"] == ["NOPE", "ZZZ"]
    assert "NOPE, ZZZ" in body["message"]


def test_many_quotes_with_an_empty_list_is_422(client: TestClient) -> None:
    response = client.get("/quotes", params={"symbols": " , "}, headers=VIEWER)
    assert response.status_code == 422
    assert response.json()["field"] == "symbols"


# ---- reference ---------------------------------------------------------------------------
def test_symbols_lists_instruments_with_their_increments(client: TestClient) -> None:
    body = client.get("/symbols", headers=VIEWER).json()
    assert len(body) == 20
    aapl = next(i for i in body if i["symbol"] == "AAPL")
    assert aapl == {"symbol": "AAPL", "name": "Apple Inc.", "tick_size": "0.01", "lot_size": "1",
                    "min_qty": "1", "max_qty": "1000000", "currency": "USD", "tradable": True}


def test_clock_reports_the_session_of_the_calendar(client: TestClient) -> None:
    body = client.get("/clock", headers=VIEWER).json()
    assert body["calendar"] == "always_open"
    assert body["is_open"] is True
    session = body["session"]
    assert session["open"] <= body["timestamp"] < session["close"]
    assert (body["next_open"], body["next_close"]) == (None, None)  # it never closes
    assert "never closes" in body["note"] and "session.close" in body["note"]
    assert session["day"] == body["timestamp"][:10]


@pytest.mark.parametrize(("now", "is_open", "next_open", "next_close"), [
    ("2026-01-02T15:00:00", True, "2026-01-05T14:30:00", "2026-01-02T21:00:00"),  # Friday, open
    ("2026-01-03T15:00:00", False, "2026-01-05T14:30:00", "2026-01-05T21:00:00"),  # Saturday
])
def test_clock_on_the_nyse_names_distinct_next_open_and_close(
        platform: Platform, now: str, is_open: bool, next_open: str, next_close: str) -> None:
    svc = MarketDataService.for_platform(platform)
    svc.calendar = NyseCalendar()
    svc.clock = ManualClock(int(datetime.fromisoformat(now + "+00:00").timestamp()) * 10**9)
    body = svc.market_clock(Principal(Role.VIEWER, "k1", None, "test"))
    assert (body["calendar"], body["is_open"], body["note"]) == ("nyse", is_open, None)
    assert body["next_open"].startswith(next_open) and body["next_close"].startswith(next_close)


# ---- bars --------------------------------------------------------------------------------
def test_quotes_become_one_minute_bars(harness: Harness) -> None:
    harness.feed(quote(last="100.00", ts=T0), quote(last="101.50", ts=T0 + 10**9),
                 quote(last="99.25", ts=T0 + 2 * 10**9), quote(last="100.75", ts=T0 + 3 * 10**9),
                 quote(last=None, ts=T0 + MINUTE, bid="200.00", ask="200.02"), kernel=False)

    body = harness.client.get("/bars/AAPL", headers=VIEWER).json()

    assert body == {"symbol": "AAPL", "timeframe": "1Min", "source": "simulator",
                    "adjustment": "raw", "adjusted": False, "note": None,
                    "next_page_token": None, "bars": [
        {"t": "2026-01-01T00:00:00.000000Z", "o": "100.00", "h": "101.50", "l": "99.25",
         "c": "100.75", "v": None, "n": 4}]}


def test_bars_roll_up_to_longer_timeframes_and_honour_start_end_and_limit(harness: Harness) -> None:
    harness.feed(*[quote(last=f"{100 + m}.00", ts=T0 + m * MINUTE) for m in range(12)], kernel=False)
    get = harness.client.get

    five = get("/bars/AAPL", params={"timeframe": "5Min"}, headers=VIEWER).json()["bars"]
    assert [(b["t"][11:16], b["o"], b["h"], b["c"], b["n"]) for b in five] == [
        ("00:00", "100.00", "104.00", "104.00", 5), ("00:05", "105.00", "109.00", "109.00", 5),
        ("00:10", "110.00", "110.00", "110.00", 1)]
    latest = get("/bars/AAPL", params={"limit": "2"}, headers=VIEWER).json()["bars"]
    assert [b["o"] for b in latest] == ["109.00", "110.00"]
    ranged = get("/bars/AAPL", params={"start": "2026-01-01T00:03:00Z", "end": "2026-01-01T00:05:00",
                                       "limit": "10"}, headers=VIEWER).json()["bars"]
    assert [b["o"] for b in ranged] == ["103.00", "104.00", "105.00"]
    first = get("/bars/AAPL", params={"start": "2026-01-01", "limit": "1"}, headers=VIEWER).json()
    assert [b["o"] for b in first["bars"]] == ["100.00"]


@pytest.mark.parametrize(("params", "field", "fragment"), [
    ({"timeframe": "2Min"}, "timeframe", "1Min, 5Min, 15Min, 30Min, 1Hour"),
    ({"start": "2026-01-02", "end": "2026-01-01"}, "start", "after end"),
    ({"start": "yesterday"}, "start", "ISO 8601"),
    ({"end": "2026-13-01"}, "end", "ISO 8601"),
    ({"end": "9999-12-31"}, "end", "out of range"),
    ({"start": "1900-01-01T00:00:00+00:00"}, "start", "out of range"),
    ({"limit": "0"}, "limit", "1 to 10000"),
    ({"limit": "many"}, "limit", "1 to 10000"),
    ({"limit": "1001", "timeframe": "1Hour"}, "limit", "1 to 1000"),
])
def test_bad_bar_parameters_are_422_naming_the_field(client: TestClient, params: dict[str, str],
                                                     field: str, fragment: str) -> None:
    response = client.get("/bars/AAPL", params=params, headers=VIEWER)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert fragment in body["message"]


def test_bars_of_an_unknown_symbol_are_404(client: TestClient) -> None:
    response = client.get("/bars/NOPE", headers=VIEWER)
    assert response.status_code == 404
    assert "'NOPE'" in response.json()["message"]


def test_bar_history_survives_a_restart(tmp_path: Path) -> None:
    first = open_platform(tmp_path)
    try:
        with TestClient(market_data.build(first)) as client:
            h = Harness(first, client)
            h.start()
            h.feed(*[quote(last=f"{100 + m}.00", ts=T0 + m * MINUTE) for m in range(4)],
                   kernel=False)
            h.stop()  # stopping writes the completed bars
    finally:
        close_platform(first)

    second = open_platform(tmp_path)
    try:
        with TestClient(market_data.build(second)) as client:
            h = Harness(second, client)
            h.start()
            h.feed(quote(last="200.00", ts=T0 + 10 * MINUTE), quote(last="201.00", ts=T0 + 11 * MINUTE),
                   kernel=False)
            bars = client.get("/bars/AAPL", headers=VIEWER).json()["bars"]
            ranged = client.get("/bars/AAPL", params={"start": "2026-01-01T00:01:00Z", "limit": "2"},
                                headers=VIEWER).json()["bars"]
            h.stop()
    finally:
        close_platform(second)

    assert [b["o"] for b in bars] == ["100.00", "101.00", "102.00", "200.00"]
    assert [b["o"] for b in ranged] == ["101.00", "102.00"]


# ---- stream ------------------------------------------------------------------------------
def test_stream_pushes_quotes_of_subscribed_symbols_only(harness: Harness) -> None:
    harness.feed(quote("AAPL", "100.01"))
    with harness.client.websocket_connect("/ws/quotes", headers=VIEWER) as ws:
        ws.send_json({"action": "subscribe", "symbols": ["aapl", "MSFT"]})
        assert ws.receive_json() == {"type": "subscription", "all": False,
                                     "symbols": ["AAPL", "MSFT"]}
        snapshot = ws.receive_json()  # the latest quote, at once
        assert (snapshot["type"], snapshot["symbol"], snapshot["last"]) == ("quote", "AAPL", "100.01")

        harness.feed(quote("KO", "70.00"), quote("MSFT", "420.00"))
        pushed = ws.receive_json()
        assert (pushed["type"], pushed["symbol"], pushed["last"]) == ("quote", "MSFT", "420.00")
        assert set(pushed) == {"type", "symbol", "bid", "ask", "bid_size", "ask_size", "last", "ts"}

        ws.send_json({"action": "unsubscribe", "symbols": ["MSFT"]})
        assert ws.receive_json()["symbols"] == ["AAPL"]
        harness.feed(quote("MSFT", "421.00"), quote("AAPL", "100.02"))
        assert ws.receive_json()["last"] == "100.02"


def test_stream_star_subscribes_to_every_symbol(harness: Harness) -> None:
    with harness.client.websocket_connect("/ws/quotes", headers=VIEWER) as ws:
        ws.send_json({"action": "subscribe", "symbols": ["*"]})
        assert ws.receive_json()["all"] is True
        harness.feed(quote("KO", "70.00"))
        assert ws.receive_json()["symbol"] == "KO"
        ws.send_json({"action": "unsubscribe", "symbols": ["*"]})
        assert ws.receive_json() == {"type": "subscription", "all": False, "symbols": []}


@pytest.mark.parametrize(("message", "code"), [
    ("not json", "INVALID_JSON"),
    ("[1, 2]", "INVALID_MESSAGE"),
    ('{"action": "dance"}', "INVALID_ACTION"),
    ('{"action": "subscribe"}', "INVALID_SYMBOLS"),
    ('{"action": "subscribe", "symbols": "AAPL"}', "INVALID_SYMBOLS"),
    ('{"action": "subscribe", "symbols": ["AAPL", "NOPE"]}', "UNKNOWN_SYMBOL"),
])
def test_a_bad_stream_message_gets_an_error_not_a_disconnect(client: TestClient, message: str,
                                                              code: str) -> None:
    with client.websocket_connect("/ws/quotes", headers=VIEWER) as ws:
        ws.send_text(message)
        error = ws.receive_json()
        assert error["type"] == "error"
        assert error["code"] == code
        assert error["message"]
        ws.send_json({"action": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_refused_subscription_changes_nothing(client: TestClient) -> None:
    with client.websocket_connect("/ws/quotes", headers=VIEWER) as ws:
        ws.send_json({"action": "subscribe", "symbols": ["AAPL", "NOPE"]})
        assert ws.receive_json()["unknown"] == ["NOPE"]
        ws.send_json({"action": "subscribe", "symbols": ["KO"]})
        assert ws.receive_json()["symbols"] == ["KO"]


def test_stream_without_a_credential_gets_an_error_and_is_closed(client: TestClient) -> None:
    with client.websocket_connect("/ws/quotes") as ws:
        error = ws.receive_json()
        assert (error["type"], error["code"]) == ("error", "UNAUTHENTICATED")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008


def test_stream_accepts_a_token_query_parameter(client: TestClient) -> None:
    with client.websocket_connect("/ws/quotes?token=k1") as ws:
        ws.send_json({"action": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_browser_streams_get_no_loopback_trust(harness: Harness) -> None:
    authenticator = harness.platform.authenticator
    assert isinstance(authenticator, ViewerAuthenticator)
    with harness.client.websocket_connect("/ws/quotes", headers={**VIEWER, "Origin": "http://x"}):
        pass
    with harness.client.websocket_connect("/ws/quotes", headers=VIEWER):
        pass
    assert authenticator.loopback_trust[-2:] == [False, True]


def test_a_closed_stream_is_forgotten(harness: Harness) -> None:
    with harness.client.websocket_connect("/ws/quotes", headers=VIEWER) as ws:
        ws.send_json({"action": "subscribe", "symbols": ["AAPL"]})
        ws.receive_json()
        assert harness.client.get("/health").json()["stream_clients"] == 1
    deadline = time.monotonic() + 2
    while harness.client.get("/health").json()["stream_clients"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert harness.client.get("/health").json()["stream_clients"] == 0


def test_the_rest_face_and_the_task_share_one_service(tmp_path: Path) -> None:
    platform = Platform(Settings(data_dir=tmp_path, database_url=None))
    market_data.build(platform)
    svc = MarketDataService.for_platform(platform)
    assert background(platform) is svc
    assert not platform.background  # the platform starts the spec's task, not the face
