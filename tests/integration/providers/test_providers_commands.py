"""providers :8093 over REST: enable/disable with roles and the last-live-provider rule; the
providers the settings configure; health counts the live feed only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from mcp_trading.adapters.providers.alphavantage import AlphaVantageProvider
from mcp_trading.adapters.providers.base import DAILY, INTRADAY, Outcome, Provider
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.health import failing_checks
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.providers import rest as providers
from mcp_trading.services.providers.registry import ProviderRegistry
from mcp_trading.services.providers.service import (
    ProvidersService,
    ReplayProvider,
    SimulatorProvider,
    build_providers,
)

KEY = "settings-key-SEKRET-42"
OPERATOR = {"Authorization": "Bearer operator"}
VIEWER = {"Authorization": "Bearer viewer"}


class RoleAuthenticator:
    """The bearer text is the role (a test stand-in for API keys)."""

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        if authorization_header is None:
            return None
        role = authorization_header.removeprefix("Bearer ")
        return Principal(Role.parse(role), role, None, "test")


class Standby(Provider):
    """A second live quote provider (what replay or a vendor feed would be)."""

    kind = "replay"

    def __init__(self, name: str = "standby") -> None:
        self.name = name


def open_platform(tmp_path: Path, **settings: object) -> Platform:
    platform = bootstrap(Settings(data_dir=tmp_path, database_url=None, **settings),
                         authenticator=RoleAuthenticator())
    platform.open()
    return platform


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = open_platform(tmp_path)
    yield platform
    if platform.runtime is not None:
        platform.runtime.close()
    if platform.projector is not None:
        platform.projector.stop()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(providers.build(platform)) as client:
        yield client


def test_disabling_needs_an_operator_and_a_known_name(client: TestClient) -> None:
    assert client.post("/providers/simulator/disable").status_code == 401
    refused = client.post("/providers/simulator/disable", headers=VIEWER)
    assert refused.status_code == 403
    unknown = client.post("/providers/nope/enable", headers=OPERATOR)
    assert unknown.status_code == 404
    assert "'nope' is not registered; known: simulator" in unknown.json()["message"]


def test_the_last_live_quote_provider_stays_while_trading_is_active(platform: Platform,
                                                                    client: TestClient) -> None:
    refused = client.post("/providers/simulator/disable", headers=OPERATOR)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "LAST_LIVE_PROVIDER"
    assert "halt trading first" in body["message"]
    assert client.get("/providers", headers=VIEWER).json()["active_providers"] == ["simulator"]

    platform.kernel_runtime.kernel.halt(level=TradingState.HALTED_NEW_ORDERS, reason="test",
                                        actor="test")
    done = client.post("/providers/simulator/disable", headers=OPERATOR)
    assert done.status_code == 200, done.json()
    assert (done.json()["changed"], done.json()["provider"]["active"]) == (True, False)


def test_with_a_standby_the_simulator_may_be_disabled_and_enabled(platform: Platform,
                                                                 client: TestClient) -> None:
    svc = ProvidersService.for_platform(platform)
    svc.registry.register(Standby())
    off = client.post("/providers/simulator/disable", headers=OPERATOR).json()
    assert off["active_providers"] == ["standby"]
    again = client.post("/providers/simulator/disable", headers=OPERATOR).json()
    assert again["changed"] is False  # idempotent
    on = client.post("/providers/simulator/enable", headers=OPERATOR).json()
    assert (on["changed"], on["active_providers"]) == (True, ["simulator", "standby"])
    kinds = [a.kind for a in platform.core.alerts.list()]
    assert {"provider_disabled", "provider_enabled"} <= set(kinds)


def test_a_history_only_provider_never_counts_as_the_live_feed(platform: Platform,
                                                                client: TestClient) -> None:
    svc = ProvidersService.for_platform(platform)
    history_only = AlphaVantageProvider(api_key=SecretStr(KEY), clock=WallClock(),
                                        base_url="http://127.0.0.1:9/query")
    history_only.serves = frozenset({DAILY, INTRADAY})
    svc.registry.register(history_only)  # never called: down, no success ever
    platform.accepting = True
    platform.last_quote_ns = time.time_ns()
    svc.registry.poll(time.time_ns())

    health = client.get("/health").json()
    assert (health["status"], health["providers_status"]) == ("healthy", "ok")
    assert health["live_providers"] == ["simulator"]
    view = client.get("/providers", headers=VIEWER).json()
    [av] = [p for p in view["providers"] if p["name"] == "alphavantage"]
    assert (av["status"], av["serves"], av["circuit"]) == ("down", ["daily", "intraday"],
                                                           "closed")
    assert av["calls_left"] == {"minute": 5, "day": 25}
    # nor can it stand between an operator and a resume
    assert not [c for c in failing_checks(platform, {"providers": True}) if "provider" in c]
    # and it is not "the last live provider": the simulator still is
    assert client.post("/providers/simulator/disable", headers=OPERATOR).status_code == 409
    assert client.post("/providers/alphavantage/disable", headers=OPERATOR).status_code == 200


def test_the_settings_configure_alpha_vantage_for_history_when_a_key_is_set(
        tmp_path: Path) -> None:
    registry = ProviderRegistry()
    platform = platform_for(tmp_path, alphavantage_api_key=KEY)
    chains = build_providers(platform, registry)
    assert chains == {"quotes": ["simulator"], "daily": ["alphavantage"],
                      "intraday": ["alphavantage"]}
    av = registry.provider("alphavantage")
    assert isinstance(av, AlphaVantageProvider)
    assert av.serves == frozenset({DAILY, INTRADAY})  # not in the quotes chain: not live
    assert isinstance(registry.provider("simulator"), SimulatorProvider)
    assert KEY not in repr(platform.settings) and KEY not in repr(av)

    bare = ProviderRegistry()
    assert build_providers(platform_for(tmp_path / "b"), bare) == {
        "quotes": ["simulator"], "daily": [], "intraday": []}
    assert bare.names() == ["simulator"]


def platform_for(path: Path, **settings: object) -> Platform:
    return Platform(Settings(data_dir=path, database_url=None, **settings))


def test_a_replay_feed_is_the_live_provider_and_says_when_it_finished(platform: Platform) -> None:
    class Status:
        state = "running"

    status = Status()
    replay = ReplayProvider(platform.core, name="replay", stale_s=5, status=lambda: status)
    assert (replay.kind, replay.serves) == ("replay", frozenset({"quotes"}))
    platform.accepting = True
    platform.last_quote_ns = time.time_ns()
    assert replay.poll(0) == Outcome(True)
    assert replay.poll(1) == Outcome(False, "no new quotes since the last poll")
    status.state = "paused"
    assert replay.poll(2) is None  # paused on purpose
    status.state = "finished"
    outcome = replay.poll(3)
    assert outcome is not None and "end of its range" in (outcome.error or "")
