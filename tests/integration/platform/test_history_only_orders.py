"""The live venue trades only what a live feed quotes: an order for a history-only symbol."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from starlette.testclient import TestClient

from mcp_trading.adapters.history import BarColumns, HistoryInstrument
from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.platform.platform import Platform
from mcp_trading.services.trading_engine import rest as trading_engine

from .conftest import FeedQuote

Auth = Callable[[str], dict[str, str]]
ORDER = {"qty": 1, "side": "buy", "type": "market", "time_in_force": "day"}
JAN_4_2010 = 1_262_581_200_000_000_000  # midnight in New York


@pytest.fixture
def engine(platform: Platform, feed_quote: FeedQuote) -> TestClient:
    feed_quote()
    store = platform.history.store()
    store.register_instruments([HistoryInstrument("WIKI", "0.01", "1", "import:wiki", 1)])
    with store.writer() as writer:
        f = np.array
        writer.add("WIKI", "import:wiki", "1Day", BarColumns(
            f([JAN_4_2010]), f([213.43]), f([214.5]), f([212.38]), f([214.01]),
            f([17633200.0]), f([np.nan])))
    return TestClient(serving_app(trading_engine.build(platform, failing_checks=list)),
                      base_url="http://127.0.0.1")


def test_an_order_for_a_history_only_symbol_is_refused_saying_why(
        engine: TestClient, auth: Auth, platform: Platform) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = engine.post("/orders", headers=auth("trader"), json={**ORDER, "symbol": "WIKI"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["field"], body["symbol"]) == ("NO_LIVE_QUOTES", "symbol", "WIKI")
    assert "has stored history but no live quotes" in body["message"]
    assert platform.kernel_runtime.kernel.seq == seq  # nothing journaled


def test_in_a_batch_the_history_only_order_alone_is_refused(engine: TestClient,
                                                           auth: Auth) -> None:
    response = engine.post("/orders/batch", headers=auth("trader"), json={"orders": [
        {**ORDER, "symbol": "WIKI"}, {**ORDER, "symbol": "AAPL"}, {**ORDER, "symbol": "NOPE"}]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [422, 200, 422]
    assert [results[0]["code"], results[2]["code"]] == ["NO_LIVE_QUOTES", "UNKNOWN_SYMBOL"]
    assert results[1]["order"]["symbol"] == "AAPL"
