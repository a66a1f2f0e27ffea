"""Replay control on :8093: GET /replay and POST /replay/step|pause|resume|seek (operators),
the refusals that say what to do, and the replay provider's kind on GET /providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.sample_bars import AAPL_2010_ROWS, bars_of

from mcp_trading.adapters.history import MemoryHistoryStore
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import in_memory
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.providers import rest as providers
from mcp_trading.services.providers.replay_control import ReplayControls

OPERATOR = {"Authorization": "Bearer operator"}
VIEWER = {"Authorization": "Bearer viewer"}


class RoleAuthenticator:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        if authorization_header is None:
            return None
        role = Role.OPERATOR if authorization_header.endswith("operator") else Role.VIEWER
        return Principal(role, "k1", None, "test")


def history() -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    with store.writer() as w:
        w.add("AAPL", "sample", "1Day", bars_of(AAPL_2010_ROWS))
    return store


def client_of(platform: Platform) -> Iterator[TestClient]:
    try:
        with TestClient(providers.build(platform)) as client:
            yield client
    finally:
        platform.kernel_runtime.close()


@pytest.fixture
def replay(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    speed = getattr(request, "param", 0)
    settings = Settings(data_dir=tmp_path, feed="replay", replay_speed=speed)
    yield from client_of(in_memory(settings, clock=ManualClock(), history=history(),
                                   authenticator=RoleAuthenticator()))


def post(client: TestClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json=body, headers=OPERATOR)


def test_status_shows_state_time_speed_symbols_sources_range_and_bars_left(
        replay: TestClient) -> None:
    status = replay.get("/replay", headers=OPERATOR).json()
    assert (status["state"], status["speed"], status["stepped"]) == ("idle", 0.0, True)
    assert status["symbols"] == ["AAPL"] and status["sources"] == {"AAPL": "sample"}
    assert status["range"]["first"].startswith("2010-01-04")
    assert status["replay_time"] is None
    assert status["bars_left"] == {"AAPL": 5}  # 2010-01-04 to 01-08
    assert replay.get("/replay", headers=VIEWER).status_code == 403


def test_step_pause_resume_and_seek(replay: TestClient) -> None:
    stepped = post(replay, "/replay/step", {"n": 4}).json()
    assert (stepped["granted"], stepped["state"], stepped["pending_steps"]) == (4, "running", 4)
    paused = post(replay, "/replay/pause").json()
    assert paused["state"] == "paused"
    assert post(replay, "/replay/resume").json()["state"] == "running"
    sought = post(replay, "/replay/seek", {"date": "2010-01-07"}).json()
    assert sought["replay_time"].startswith("2010-01-07")
    assert sought["bars_left"] == {"AAPL": 2}  # the 7th and the 8th


def test_bad_arguments_are_422_naming_the_field(replay: TestClient) -> None:
    assert post(replay, "/replay/step", {"n": 0}).json()["field"] == "n"
    assert post(replay, "/replay/step", {"n": "2"}).json()["field"] == "n"
    outside = post(replay, "/replay/seek", {"date": "2012-01-01"})
    assert outside.status_code == 422 and "outside the replay's range" in outside.json()["message"]
    assert post(replay, "/replay/seek", {"date": "March"}).json()["field"] == "date"
    assert post(replay, "/replay/rewind").status_code == 422


@pytest.mark.parametrize("replay", [1.0], indirect=True)
def test_a_step_while_running_at_speed_is_409_saying_pause_first(replay: TestClient) -> None:
    assert post(replay, "/replay/resume").json()["state"] == "running"
    refused = post(replay, "/replay/step", {"n": 1})
    assert refused.status_code == 409 and "pause it" in refused.json()["message"]


def test_the_replay_provider_is_listed_as_kind_replay(replay: TestClient) -> None:
    body = replay.get("/providers", headers=VIEWER).json()
    [live] = body["providers"]
    assert (live["name"], live["kind"]) == ("replay", "replay")


def test_on_the_simulator_replay_control_is_409_saying_how_to_start_one(tmp_path: Path) -> None:
    platform = in_memory(Settings(data_dir=tmp_path), authenticator=RoleAuthenticator())
    for client in client_of(platform):
        refused = client.get("/replay", headers=OPERATOR)
        assert refused.status_code == 409
        assert "MCP_TRADING_FEED=replay" in refused.json()["message"]
        assert post(client, "/replay/pause").status_code == 409


def test_in_distributed_mode_control_is_409_naming_the_market_data_process() -> None:
    class Elsewhere:
        name = "replay"

    with pytest.raises(Exception, match="market-data process") as refused:
        ReplayControls(Elsewhere(), distributed=True).status()
    assert getattr(refused.value, "code", None) == "REPLAY_ELSEWHERE"
