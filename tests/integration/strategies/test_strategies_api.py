"""trading-strategies :8090 over a real platform: strategies, backtests (run, poll, read,
report, compare, delete), the roles, and every bad input answered 4xx with the reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies import rest
from mcp_trading.services.strategies.service import StrategiesService

Auth = Callable[[str], dict[str, str]]
RUN = {"strategy": "sma_crossover", "symbols": ["AAPL"], "start": "2004-01-01",
       "end": "2008-12-31", "params": {"fast": 10, "slow": 30}}


@pytest.fixture
def auth() -> Auth:
    return lambda role: {"Authorization": f"Bearer {role}"}


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(rest.build(platform), client=("198.51.100.7", 5000))  # no loopback trust


def _run(client: TestClient, auth: Auth, **changes: Any) -> dict[str, Any]:
    response = client.post("/backtests", headers=auth("trader"), json={**RUN, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _refused(client: TestClient, auth: Auth, status: int = 422, **changes: Any
             ) -> dict[str, Any]:
    response = client.post("/backtests", headers=auth("trader"), json={**RUN, **changes})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_strategies_list_each_with_its_schema_and_doc_and_the_load_problems(
        client: TestClient, auth: Auth) -> None:
    body = client.get("/strategies", headers=auth("viewer")).json()
    by_name = {s["name"]: s for s in body["strategies"]}
    assert {"sma_crossover", "rsi_reversion", "bollinger_breakout", "momentum_rotation",
            "buy_and_hold", "slow"} <= set(by_name)
    sma = by_name["sma_crossover"]
    assert sma["params"]["properties"]["fast"]["default"] == 10
    assert sma["params"]["properties"]["slow"]["default"] == 30
    assert "cross" in sma["doc"].lower() and sma["origin"] == "builtin"
    [problem] = body["problems"]
    assert problem["source"].endswith("broken.py")
    assert "RuntimeError: this file is broken" in problem["error"]
    one = client.get("/strategies/sma_crossover", headers=auth("viewer")).json()
    assert one["params"] == sma["params"]
    missing = client.get("/strategies/nope", headers=auth("viewer"))
    assert missing.status_code == 404 and "sma_crossover" in missing.json()["message"]


def test_a_backtest_runs_and_its_record_trades_equity_and_report_read_back(
        client: TestClient, auth: Auth) -> None:
    created = _run(client, auth)
    run_id = created["id"]
    assert created["status"] == "done" and created["summary"]
    got = client.get(f"/backtests/{run_id}", headers=auth("viewer")).json()
    assert got["status"] == "done" and got["id"] == run_id
    assert got["metrics"]["basis"]["annualisation_days"] == 252
    trades = client.get(f"/backtests/{run_id}/trades", headers=auth("viewer")).json()
    assert trades["count"] == got["metrics"]["trades"] > 0
    first = trades["trades"][0]
    assert first["symbol"] == "AAPL" and first["side"] == "long"
    assert Decimal(first["qty"]) == 100  # sma_crossover's qty
    equity = client.get(f"/backtests/{run_id}/equity", headers=auth("viewer")).json()
    days = equity["equity"]
    assert len(days) > 1000 and equity["initial"] == 100_000
    assert days[0]["ts"] >= 1072915200 * 10**9  # 2004-01-01 UTC
    report = client.get(f"/backtests/{run_id}/report.html", headers=auth("viewer"))
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert "<svg" in report.text and run_id in report.text
    listed = client.get("/backtests", headers=auth("viewer")).json()
    assert [row["id"] for row in listed["backtests"]] == [run_id]
    assert listed["active"] == []


def test_equity_rows_are_dated_by_their_trading_day(client: TestClient, auth: Auth) -> None:
    run_id = _run(client, auth)["id"]
    days = client.get(f"/backtests/{run_id}/equity", headers=auth("viewer")).json()["equity"]
    assert days[0]["date"] == "2004-01-02"  # the first trading day of 2004 (a Friday)
    assert days[-1]["date"] == "2008-12-31"


def test_runs_compare_as_json_and_html(client: TestClient, auth: Auth) -> None:
    a = _run(client, auth)["id"]
    b = _run(client, auth, params={"fast": 20, "slow": 50})["id"]
    body = client.get("/backtests/compare", params={"ids": f"{a},{b}"},
                      headers=auth("viewer")).json()
    assert body["ids"] == [a, b] and len(body["runs"]) == 2
    assert body["runs"][0]["metrics"] != body["runs"][1]["metrics"]
    page = client.get("/backtests/compare.html", params={"ids": f"{a},{b}"},
                      headers=auth("viewer"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    one = client.get("/backtests/compare", params={"ids": a}, headers=auth("viewer"))
    assert one.status_code == 422 and one.json()["field"] == "ids"
    unknown = client.get("/backtests/compare", params={"ids": f"{a},ffff"},
                         headers=auth("viewer"))
    assert unknown.status_code == 404


def test_roles_viewer_reads_trader_runs_operator_deletes(client: TestClient, auth: Auth) -> None:
    assert client.get("/strategies").status_code == 401
    assert client.post("/backtests", json=RUN).status_code == 401
    assert client.post("/backtests", headers=auth("viewer"), json=RUN).status_code == 403
    run_id = _run(client, auth)["id"]
    assert client.delete(f"/backtests/{run_id}", headers=auth("trader")).status_code == 403
    deleted = client.delete(f"/backtests/{run_id}", headers=auth("operator"))
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    gone = client.get(f"/backtests/{run_id}", headers=auth("viewer"))
    assert gone.status_code == 404
    assert client.get(f"/backtests/{run_id}/report.html",
                      headers=auth("viewer")).status_code == 404


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"strategy": "nope"}, "strategy", "sma_crossover"),
    ({"params": {"fastest": 3}}, "params.fastest", "allowed parameters: fast"),
    ({"params": {"fast": 0}}, "params.fast", "below its minimum"),
    ({"params": {"fast": "ten"}}, "params.fast", "not a whole number"),
    ({"start": "2009-01-01", "end": "2008-01-01"}, "start", "after end"),
    ({"start": "01/02/2008"}, "start", "YYYY-MM-DD"),
    ({"timeframe": "2Day"}, "timeframe", "1Min"),
    ({"cash": "-5"}, "cash", "cash"),
    ({"symbols": []}, "symbols", "required"),
    ({"bogus": 1}, "bogus", "allowed: strategy"),
    ({"wait_s": 5000}, "wait_s", "seconds"),
])
def test_bad_input_is_refused_naming_the_field(client: TestClient, auth: Auth,
                                               changes: dict[str, Any], field: str,
                                               words: str) -> None:
    body = _refused(client, auth, **changes)
    assert body["field"] == field, body
    assert words in body["message"], body


def test_no_stored_data_says_what_exists(client: TestClient, auth: Auth) -> None:
    unknown = _client_error(client, auth, symbols=["ZZZZ"])
    assert "ZZZZ" in unknown["message"]
    early = _client_error(client, auth, start="1990-01-01", end="1995-12-31")
    assert "AAPL" in early["message"] and "2000" in early["message"], early


def _client_error(client: TestClient, auth: Auth, **changes: Any) -> dict[str, Any]:
    """What the engine answers for no data: some 4xx (422 or 404) with a reason, never 5xx."""
    response = client.post("/backtests", headers=auth("trader"), json={**RUN, **changes})
    assert 400 <= response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_slow_run_answers_202_then_polls_to_done(client: TestClient, auth: Auth) -> None:
    response = client.post("/backtests", headers=auth("trader"), json={
        "strategy": "slow", "symbols": ["AAPL"], "start": "2005-01-01", "end": "2005-12-31",
        "params": {"sleep_ms": 4}, "wait_s": 0})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] in ("queued", "running") and body["poll"] == f"/backtests/{body['id']}"
    health = client.get("/health").json()
    assert health["queue_depth"] == 1 and health["status"] == "healthy"
    early = client.get(f"/backtests/{body['id']}/trades", headers=auth("viewer"))
    assert early.status_code == 409 and early.json()["code"] == "BACKTEST_RUNNING"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        polled = client.get(f"/backtests/{body['id']}", headers=auth("viewer")).json()
        if polled["status"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert polled["status"] == "done", polled
    trades = client.get(f"/backtests/{body['id']}/equity", headers=auth("viewer")).json()
    assert len(trades["equity"]) > 200
    assert client.get("/health").json()["queue_depth"] == 0


def test_a_full_queue_is_refused_with_503(platform: Platform, auth: Auth) -> None:
    StrategiesService.for_platform(platform, queue_limit=1)
    client = TestClient(rest.build(platform), client=("198.51.100.7", 5000))
    slow = {"strategy": "slow", "symbols": ["AAPL"], "start": "2005-01-01",
            "end": "2005-12-31", "params": {"sleep_ms": 20}, "wait_s": 0}
    first = client.post("/backtests", headers=auth("trader"), json=slow)
    assert first.status_code == 202
    second = client.post("/backtests", headers=auth("trader"), json=slow)
    assert second.status_code == 503, second.text
    assert second.json()["code"] == "BACKTEST_QUEUE_FULL"
    assert "1 runs are queued or running" in second.json()["message"]
    cancelled = client.delete(f"/backtests/{first.json()['id']}", headers=auth("operator"))
    assert cancelled.json()["cancelled"] is True
