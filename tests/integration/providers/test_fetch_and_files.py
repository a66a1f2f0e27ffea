"""The providers service wired to the platform's history store: history fetched through
POST :8093/history/{symbol}/fetch (against the local fake Alpha Vantage) is stored once in
the platform's store; the files provider imports a watched directory, and what it imported
is read through GET :8001/bars; a refused file is alerted with its row."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from tests.fakes.alphavantage import FakeAlphaVantage, running_fake

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data import rest as market_data
from mcp_trading.services.providers import rest as providers
from mcp_trading.services.providers.files_watch import scan_once
from mcp_trading.services.providers.service import ProvidersService

KEY = "fake-av-key-SEKRET-0123456789"
OPERATOR = {"Authorization": "Bearer operator"}
VIEWER = {"Authorization": "Bearer viewer"}
AAPL_CSV = ("Date,Open,High,Low,Close,Volume\n"
            "2010-01-04,213.43,214.5,212.38,214.01,17633200\n"
            "2010-01-05,214.6,215.59,213.25,214.38,21496600\n"
            "2010-01-06,214.38,215.23,210.75,210.97,19720000\n")


class RoleAuthenticator:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        if authorization_header is None:
            return None
        role = Role.OPERATOR if authorization_header.endswith("operator") else Role.VIEWER
        return Principal(role, "k1", None, "test")


class Rig(NamedTuple):
    platform: Platform
    store: MemoryHistoryStore
    client: TestClient
    fake: FakeAlphaVantage | None


def open_platform(tmp_path: Path, store: MemoryHistoryStore, **settings: Any) -> Platform:
    platform = bootstrap(Settings(data_dir=tmp_path, database_url=None, **settings),
                         authenticator=RoleAuthenticator(), history=store)
    platform.open()
    return platform


def close(platform: Platform) -> None:
    if platform.runtime is not None:
        platform.runtime.close()
    if platform.projector is not None:
        platform.projector.stop()


@pytest.fixture
def av(tmp_path: Path) -> Iterator[Rig]:
    store = MemoryHistoryStore()
    with running_fake(FakeAlphaVantage(KEY)) as (fake, url):
        platform = open_platform(tmp_path, store, alphavantage_api_key=SecretStr(KEY),
                                 alphavantage_base_url=url, alphavantage_calls_per_minute=100)
        try:
            with TestClient(providers.build(platform)) as client:
                yield Rig(platform, store, client, fake)
        finally:
            close(platform)


def fetch(client: TestClient, body: dict[str, Any] | None = None, symbol: str = "AAPL",
          headers: dict[str, str] = OPERATOR) -> Any:
    return client.post(f"/history/{symbol}/fetch", json=body, headers=headers)


# ---- the platform's store; fetched once ----------------------------------------------------
def test_a_fetched_range_is_stored_in_the_platforms_store_and_never_fetched_twice(
        av: Rig) -> None:
    body = {"timeframe": "1Day", "start": "2010-01-04", "end": "2010-01-08"}
    first = fetch(av.client, body)
    assert first.status_code == 200, first.json()
    reply = first.json()
    assert (reply["served_by"], reply["fetched"], reply["bars"], reply["from_store"]) == (
        "alphavantage", 5, 5, False)
    assert reply["first"].startswith("2010-01-04") and reply["last"].startswith("2010-01-08")
    [p] = reply["providers"]
    assert (p["name"], p["served"], p["stored"]["bars"]) == ("alphavantage", True, 5)
    [series] = av.store.series("AAPL")  # the platform's own store, no second one
    assert (series.source, series.timeframe, series.bars) == ("alphavantage", "1Day", 5)

    again = fetch(av.client, body)
    assert (again.json()["fetched"], again.json()["from_store"], again.json()["bars"]) == (
        0, True, 5)
    assert av.fake is not None and len(av.fake.calls) == 1  # two reads, one call
    assert KEY not in first.text and KEY not in again.text


def test_fetch_refusals_name_the_field_and_what_to_do(av: Rig) -> None:
    bad = fetch(av.client, {"timeframe": "2Day"})
    assert bad.status_code == 422 and bad.json()["field"] == "timeframe"
    reversed_ = fetch(av.client, {"start": "2010-02-01", "end": "2010-01-01"})
    assert reversed_.status_code == 422 and reversed_.json()["field"] == "start"
    unknown = fetch(av.client, {"from": "2010-01-01"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "from"
    assert fetch(av.client, {}, headers=VIEWER).status_code == 403
    # no intraday provider: the intraday chain is alphavantage too by default, so disable it
    av.client.post("/providers/alphavantage/disable", headers=OPERATOR)
    off = fetch(av.client, {"timeframe": "5Min"})
    assert off.status_code == 409 and "enable" in off.json()["message"]


def test_every_provider_failing_is_a_503_naming_each_reason(av: Rig) -> None:
    assert av.fake is not None
    av.fake.fail_next(1, status=503)
    failed = fetch(av.client, {"start": "2011-01-03", "end": "2011-01-07"})
    assert failed.status_code == 503
    assert failed.json()["providers"][0]["provider"] == "alphavantage"
    assert "HTTP 503" in failed.json()["message"] and KEY not in failed.text


def test_without_a_provider_the_fetch_says_what_to_set(tmp_path: Path) -> None:
    platform = open_platform(tmp_path, MemoryHistoryStore())
    try:
        with TestClient(providers.build(platform)) as client:
            response = fetch(client, {"start": "2010-01-04"})
    finally:
        close(platform)
    assert response.status_code == 409
    message = response.json()["message"]
    assert "MCP_TRADING_ALPHAVANTAGE_API_KEY" in message
    assert "MCP_TRADING_PROVIDER_CHAIN_DAILY" in message


# ---- the files provider ----------------------------------------------------------------------
@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Rig, Path]]:
    directory = tmp_path / "drop"
    directory.mkdir()
    store = MemoryHistoryStore()
    platform = open_platform(tmp_path / "data", store, files_dir=directory, files_poll_s=0.1)
    try:
        with TestClient(providers.build(platform)) as client:
            yield Rig(platform, store, client, None), directory
    finally:
        close(platform)


def scan(rig: Rig) -> None:
    svc = ProvidersService.for_platform(rig.platform)
    files = svc.registry.provider("files")
    rig.client.portal.call(lambda: scan_once(files, svc.registry, rig.platform.core.alerts))


def files_status(rig: Rig) -> dict[str, Any]:
    body = rig.client.get("/providers", headers=VIEWER).json()
    [status] = [p for p in body["providers"] if p["name"] == "files"]
    assert body["chains"]["daily"] == ["files"]
    return dict(status)


def test_a_dropped_csv_is_imported_and_its_bars_are_read_through_get_bars(
        files: tuple[Rig, Path]) -> None:
    rig, directory = files
    (directory / "AAPL.csv").write_text(AAPL_CSV)
    scan(rig)  # first seen: it may still be growing
    assert rig.store.series("AAPL") == []
    scan(rig)  # unchanged for one interval: imported
    [series] = rig.store.series("AAPL")
    assert (series.source, series.bars) == ("files", 3)
    status = files_status(rig)
    assert (status["kind"], status["serves"], status["status"]) == (
        "files", ["daily", "intraday"], "ok")
    assert status["last_success"] is not None

    with TestClient(market_data.build(rig.platform)) as md:
        bars = md.get("/bars/AAPL", params={"timeframe": "1Day", "start": "2010-01-01",
                                            "end": "2010-01-31"}, headers=VIEWER).json()
    assert bars["source"] == "files"
    assert [b["c"] for b in bars["bars"]] == ["214.01", "214.38", "210.97"]


def test_a_bad_csv_is_refused_with_its_row_alerted_once_and_nothing_is_stored(
        files: tuple[Rig, Path]) -> None:
    rig, directory = files
    bad = AAPL_CSV.replace("214.6,215.59,213.25", "214.6,211.0,213.25")  # high below open
    (directory / "AAPL.csv").write_text(bad)
    for _ in range(3):
        scan(rig)
    assert rig.store.series() == []
    alerts = [a for a in rig.platform.core.alerts.list() if a.kind == "history_file_refused"]
    assert len(alerts) == 1  # reported once, until the file changes
    assert alerts[0].details["row"] == 3 and "AAPL.csv" in alerts[0].details["file"]
    assert "row 3" in alerts[0].message
    status = files_status(rig)
    assert "row 3" in status["last_error"] and status["last_failure"] is not None


def test_the_poller_watches_the_directory_on_its_interval(files: tuple[Rig, Path]) -> None:
    rig, directory = files
    svc = ProvidersService.for_platform(rig.platform)

    async def main() -> None:
        task = asyncio.create_task(svc.run())
        try:
            (directory / "AAPL.csv").write_text(AAPL_CSV)
            for _ in range(100):  # poll_s 0.1: imported after two scans
                if rig.store.series("AAPL"):
                    break
                await asyncio.sleep(0.05)
        finally:
            await svc.stop()
            await asyncio.gather(task, return_exceptions=True)

    rig.client.portal.call(main)
    [series] = rig.store.series("AAPL")
    assert series.bars == 3
