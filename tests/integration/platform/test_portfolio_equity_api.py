"""portfolio :8013 equity history over a real platform (SQLite): POST a snapshot (operator,
journaled, exact), GET the end-of-day series (close preferred, one per day) and the intraday
samples, each scoped to the caller's accounts; bad input is a 422 naming the field."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.adapters.store.equity_samples import EquitySample
from mcp_trading.kernel.equity_commands import new_york_day
from mcp_trading.platform.platform import Platform
from mcp_trading.reports.equity_source import read_equity_snapshots
from mcp_trading.services.portfolio import rest as portfolio
from mcp_trading.services.portfolio.sampler import EquitySampler, equity_history

Auth = Callable[[str], dict[str, str]]
D = Decimal
DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def client(platform: Platform, feed_quote: Any, place_order: Any) -> TestClient:
    kernel = platform.kernel_runtime.kernel
    kernel.open_account("swing", D("50000"))
    kernel.open_account("_selftest", D("1000000"), internal=True)
    feed_quote(last="100.00")
    feed_quote("MSFT", "250.10", "250.30", last="250.20")
    place_order(qty=7)  # at the ask, 100.02
    place_order(qty=3, symbol="MSFT")
    place_order("swing", qty=2)
    feed_quote(bid="101.36", ask="101.40", last="101.375")
    return TestClient(portfolio.build(platform))


def test_a_snapshot_needs_an_operator(client: TestClient, auth: Auth) -> None:
    assert client.post("/portfolio/equity/snapshot").status_code == 401
    assert client.post("/portfolio/equity/snapshot", headers=auth("viewer")).status_code == 403
    assert client.post("/portfolio/equity/snapshot", headers=auth("trader")).status_code == 403


def test_a_snapshot_is_exact_journaled_and_leaves_internal_accounts_out(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    r = client.post("/portfolio/equity/snapshot", headers=auth("operator"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["count"] == 2
    paper, swing = body["snapshots"]
    assert (paper["account_id"], swing["account_id"]) == ("paper", "swing")
    account = platform.kernel_runtime.kernel.state.accounts["paper"]
    assert paper["cash"] == str(account.cash)
    assert paper["positions"] == [{"symbol": "AAPL", "qty": "7", "mark": "101.375"},
                                  {"symbol": "MSFT", "qty": "3", "mark": "250.20"}]
    assert D(paper["equity"]) == account.cash + 7 * D("101.375") + 3 * D("250.20")
    assert paper["equity"] == str(account.equity)  # no rounding on the way out
    assert paper["reason"] == "manual" and paper["actor"]
    stored = read_equity_snapshots(platform.settings)  # offline, from the journal table
    assert [(s.account_id, str(s.equity)) for s in stored] == [
        ("paper", paper["equity"]), ("swing", swing["equity"])]


def test_one_account_and_the_bad_bodies(client: TestClient, auth: Auth) -> None:
    op = auth("operator")
    r = client.post("/portfolio/equity/snapshot", headers=op, json={"account_id": "swing"})
    assert [s["account_id"] for s in r.json()["snapshots"]] == ["swing"]
    assert client.post("/portfolio/equity/snapshot", headers=op,
                       json={"account_id": "nobody"}).status_code == 404
    r = client.post("/portfolio/equity/snapshot", headers=op, json={"acount_id": "swing"})
    assert r.status_code == 422 and r.json()["field"] == "acount_id"
    r = client.post("/portfolio/equity/snapshot", headers=op, json={"account_id": 7})
    assert r.status_code == 422 and r.json()["field"] == "account_id"
    r = client.post("/portfolio/equity/snapshot", headers=op, json={"account_id": "_selftest"})
    assert r.status_code == 422 and "platform's own" in r.json()["message"]


def test_a_bound_operator_snapshots_only_its_account(client: TestClient, auth: Auth) -> None:
    r = client.post("/portfolio/equity/snapshot", headers=auth("operator@swing"))
    assert [s["account_id"] for s in r.json()["snapshots"]] == ["swing"]
    assert client.post("/portfolio/equity/snapshot", headers=auth("operator@swing"),
                       json={"account_id": "paper"}).status_code == 403


def _series(client: TestClient, auth: Auth, role: str = "viewer", **params: str) -> Any:
    r = client.get("/portfolio/equity", headers=auth(role), params=params)
    assert r.status_code == 200, r.text
    return {a["account_id"]: a["points"] for a in r.json()["accounts"]}


def test_the_daily_series_takes_the_close_over_later_manual_ones(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    kernel = platform.kernel_runtime.kernel
    now = kernel.clock.now_ns()
    kernel.snapshot_equity(reason="manual", actor="t", ts=now - 2 * DAY_NS)
    kernel.snapshot_equity(reason="close", actor="platform", ts=now - DAY_NS)
    kernel.snapshot_equity(reason="manual", actor="t", ts=now - DAY_NS + 60_000_000_000)
    platform.kernel_runtime.journal.flush()
    series = _series(client, auth)
    assert set(series) == {"paper", "swing"}
    days = [(p["day"], p["reason"]) for p in series["paper"]]
    assert len(days) == 2 and days[1][1] == "close" and days[0][1] == "manual"
    # a duration counts back from now; the daily series keeps the days from that one on
    first = new_york_day(now - 36 * 3600 * 10**9)
    assert [p["day"] for p in _series(client, auth, since="36h")["paper"]] == [
        d for d, _ in days if d >= first]
    assert _series(client, auth, since="2999-01-01")["paper"] == []
    assert _series(client, auth, since=days[1][0])["paper"][0]["reason"] == "close"


def test_the_series_is_scoped_to_the_callers_accounts(client: TestClient, auth: Auth,
                                                      platform: Platform) -> None:
    platform.kernel_runtime.kernel.snapshot_equity(reason="manual", actor="t")
    platform.kernel_runtime.journal.flush()
    assert client.get("/portfolio/equity").status_code == 401
    assert set(_series(client, auth, "viewer@swing")) == {"swing"}
    assert client.get("/portfolio/equity", headers=auth("viewer@swing"),
                      params={"account_id": "paper"}).status_code == 403
    assert set(_series(client, auth, account_id="paper")) == {"paper"}
    assert client.get("/portfolio/equity", headers=auth("viewer"),
                      params={"account_id": "nobody"}).status_code == 404


@pytest.mark.parametrize(("params", "field"), [
    ({"interval": "1Week"}, "interval"), ({"since": "yesterday"}, "since"),
    ({"since": "0d"}, "since"), ({"since": "2026-13-45"}, "since"),
    ({"since": "9999999w"}, "since"), ({"account_id": "x" * 65}, "account_id")])
def test_bad_queries_are_422s_naming_the_field(client: TestClient, auth: Auth,
                                               params: dict[str, str], field: str) -> None:
    r = client.get("/portfolio/equity", headers=auth("viewer"), params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_intraday_samples_are_exact_scoped_and_pruned(client: TestClient, auth: Auth,
                                                       platform: Platform) -> None:
    sampler = EquitySampler(platform)
    assert asyncio.run(sampler.sample()) == 2  # paper and swing; _selftest left out
    state = platform.kernel_runtime.kernel.state
    series = _series(client, auth, interval="intraday")
    (paper,) = series["paper"]
    assert paper["equity"] == str(state.accounts["paper"].equity)
    assert paper["cash"] == str(state.accounts["paper"].cash)
    assert set(_series(client, auth, "viewer@swing", interval="intraday")) == {"swing"}
    samples = equity_history(platform).samples
    old = platform.clock.now_ns() - 31 * DAY_NS  # past the default 30 days kept
    samples.add([EquitySample(old, "paper", D("1"), D("1"))])
    assert len(_series(client, auth, interval="intraday")["paper"]) == 2
    assert len(_series(client, auth, interval="intraday", since="1h")["paper"]) == 1
    asyncio.run(sampler.sample(prune=True))
    points = _series(client, auth, interval="intraday")["paper"]
    assert len(points) == 2 and all(p["equity"] != "1" for p in points)


def test_the_sampler_loop_samples_on_its_interval_and_idles_when_off(
        client: TestClient, platform: Platform) -> None:
    sampler = EquitySampler(platform)
    assert sampler.interval == 60.0  # the default
    sampler.interval = 0.05  # below the setting's 1 s floor, to keep the test short

    async def run_for(s: EquitySampler, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.run(), seconds)

    asyncio.run(run_for(sampler, 0.6))
    assert sampler.samples_taken >= 4  # two accounts, at least twice
    off = EquitySampler(platform)
    off.interval = 0
    asyncio.run(run_for(off, 0.3))
    assert off.samples_taken == 0


def test_in_distributed_mode_the_snapshot_is_forwarded_to_the_engine() -> None:
    from mcp_trading.processes.distributed.forward import write_routes

    routes = write_routes("portfolio")
    assert any(m == "POST" and p.fullmatch("/portfolio/equity/snapshot") for m, p in routes)
    assert not any(p.fullmatch("/portfolio/equity") for _, p in routes)  # a replica's read
