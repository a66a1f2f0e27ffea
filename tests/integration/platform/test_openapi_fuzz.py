"""Schemathesis over every service's OpenAPI, in process: no request may get a 5xx.

Each of the seven apps is run through schemathesis' engine (the `st run` phases: examples,
coverage, fuzzing, stateful) over a fresh opened platform that has quotes, a working and a
filled order: as an operator (so routes do real work) and without a credential. Symbols,
order ids, accounts and order numbers are drawn half the time from dictionaries of real and
awkward values, so requests reach the domain (off-tick prices, cancelling a filled order).

Only `not_a_server_error` is asserted; an exception escaping a route (a 500 when served)
fails too. Full conformance is not: the apps document few response bodies and status codes.
`schemathesis.pytest.from_fixture` is not used: its runner reads `Node._nodeid`, which
pytest 9.2 removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.engine import events
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_trading.platform.platform import Platform
from mcp_trading.processes.runner import build_apps
from mcp_trading.services.market_data.service import MarketDataService
from mcp_trading.services.providers.service import ProvidersService
from mcp_trading.services.registry import names
from mcp_trading.services.trading_engine import rest as trading_engine

from .conftest import FeedQuote, PlaceOrder

CREDENTIALS = {"operator": {"Authorization": "Bearer operator"}, "anonymous": {}}
MAX_EXAMPLES = 40
_QUOTES = {"AAPL": ("100.00", "100.02"), "MSFT": ("200.00", "200.04"), "SPY": ("500.00", "500.01")}
#: numbers a fuzzer rarely draws on its own: off the tick, negative, zero, huge, not finite
_NUMBERS = ["1", "10", "0", "-1", "-0.5", "0.001", "100.005", "99.99", "1e9", "1e400", "NaN",
            "Infinity", "-Infinity", "1_000", " 5 ", "0x10", 100, -3, 0, 1.5]


class _LoopRecorder:
    """Passes requests through and remembers the event loop schemathesis serves them on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@pytest.fixture
def world(platform: Platform, feed_quote: FeedQuote, place_order: PlaceOrder) -> dict[str, list[Any]]:
    """Prices and orders in the kernel; the dictionaries the fuzzer draws real values from."""
    for symbol, (bid, ask) in _QUOTES.items():
        feed_quote(symbol, bid, ask)
    working = place_order(type="limit", limit_price="90.00")
    filled = place_order(qty=1)
    return {"symbols": [*_QUOTES, "aapl", "ZZZZ", ""], "orders": [working.id, filled.id, "nope"],
            "accounts": ["paper", "_selftest", "nobody"], "numbers": _NUMBERS}


@pytest.fixture
def apps(platform: Platform) -> Iterator[dict[str, _LoopRecorder]]:
    served = {name: _LoopRecorder(app) for name, app in
              build_apps(platform, lambda: dict.fromkeys(names(), True)).items()}
    yield served
    # routes lazily start the services' background readers on schemathesis' event loop
    for app in served.values():
        if app.loop is not None:
            for svc in (MarketDataService.for_platform(platform),
                        ProvidersService.for_platform(platform)):
                asyncio.run_coroutine_threadsafe(svc.stop(), app.loop).result(timeout=10)


def _config(headers: dict[str, str], world: dict[str, list[Any]]) -> schemathesis.Config:
    half = {"probability": 0.5}
    bindings = {"symbols": ["path.symbol", "body.symbol", "query.symbol", "query.symbols"],
                "orders": ["path.order_id"],
                "accounts": ["path.account_id", "query.account_id", "body.account_id"],
                "numbers": ["body.qty", "body.limit_price", "body.stop_price", "body.trail",
                            "body.trail_price", "body.trail_percent"]}
    return schemathesis.Config.from_dict({
        "seed": 20260101,
        "headers": headers,
        "continue-on-failure": True,
        "cache": {"enabled": False},  # no replay of earlier runs' failures: every run the same
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "dictionaries": {name: {"values": values} for name, values in world.items()},
        "parameters": {key: {"dictionary": name, **half}
                       for name, keys in bindings.items() for key in keys},
    })


def _server_errors(app: ASGIApp, config: schemathesis.Config) -> list[str]:
    """Every 5xx and every exception that escaped a route, as a readable report."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    problems: list[str] = []
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                problems += [f"{event.label}: {c.failure_info.failure.title}\n"
                             f"{c.failure_info.code_sample}" for c in checks if c.failure_info]
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: {event.info.title}\n{event.info.traceback}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return list(dict.fromkeys(problems))  # one line per distinct failure


@pytest.mark.parametrize("credential", list(CREDENTIALS))
@pytest.mark.parametrize("service", names())
def test_no_request_gets_a_server_error(apps: dict[str, _LoopRecorder],
                                        world: dict[str, list[Any]], service: str,
                                        credential: str) -> None:
    problems = _server_errors(apps[service], _config(CREDENTIALS[credential], world))
    assert not problems, "\n\n".join(problems)


# ---- regressions the fuzzer found ----------------------------------------------------------

@pytest.mark.parametrize("time_in_force", [{}, [None, None], 5, True])
def test_replace_with_a_non_string_time_in_force_is_a_422(platform: Platform, feed_quote: FeedQuote,
                                                          place_order: PlaceOrder,
                                                          time_in_force: object) -> None:
    feed_quote()
    order = place_order(type="limit", limit_price="90.00")
    client = TestClient(trading_engine.build(platform, failing_checks=list))
    response = client.patch(f"/orders/{order.id}", headers=CREDENTIALS["operator"],
                            json={"time_in_force": time_in_force, "limit_price": "91.00"})
    assert response.status_code == 422  # was an unhandled TypeError (unhashable dict): a 500
    body = response.json()
    assert body["field"] == "time_in_force"
    assert "day, gtc, ioc, fok" in body["message"]
    unchanged = client.get(f"/orders/{order.id}", headers=CREDENTIALS["operator"]).json()
    assert (unchanged["limit_price"], unchanged["time_in_force"]) == ("90.00", "day")
