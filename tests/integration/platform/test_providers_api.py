"""providers :8093: the provider registry's scoring, and the API over a real opened Platform."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.providers import rest as providers
from mcp_trading.services.providers.service import (
    Outcome,
    Provider,
    ProviderRegistry,
    ProvidersService,
    SimulatorProvider,
    background,
)

S = 1_000_000_000
T0 = 1_767_225_600 * S
VIEWER = {"Authorization": "Bearer k1"}


class ViewerAuthenticator:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        return None if authorization_header is None else Principal(Role.VIEWER, "k1", None, "test")


class FakeVendor(Provider):
    """A provider that calls out: its adapter records outcomes; it has a quota."""

    kind = "alpha_vantage"
    rate_limit_per_min = 5
    stale_after_s = 60.0
    down_after_s = 300.0

    def __init__(self, name: str = "alpha_vantage") -> None:
        self.name = name


# ---- registry ----------------------------------------------------------------------------
def test_a_provider_without_a_success_is_down() -> None:
    registry = ProviderRegistry()
    registry.register(FakeVendor())
    status = registry.status("alpha_vantage", T0)
    assert (status.status, status.last_success, status.error_rate, status.samples) == (
        "down", None, None, 0)


def test_error_rate_counts_failures_over_the_window_only() -> None:
    registry = ProviderRegistry(window_s=60)
    registry.register(FakeVendor())
    registry.record_failure("alpha_vantage", T0, "HTTP 503")  # falls out of the window
    for i in range(1, 20):
        registry.record_success("alpha_vantage", T0 + 30 * S + i)
    registry.record_failure("alpha_vantage", T0 + 40 * S, "HTTP 429")

    status = registry.status("alpha_vantage", T0 + 70 * S)

    assert status.samples == 20
    assert status.error_rate == 0.05
    assert status.status == "ok"
    assert status.last_error == "HTTP 429"
    assert status.last_failure == T0 + 40 * S


def test_an_error_rate_of_ten_percent_degrades_a_provider() -> None:
    registry = ProviderRegistry()
    registry.register(FakeVendor())
    for i in range(9):
        registry.record_success("alpha_vantage", T0 + i)
    registry.record_failure("alpha_vantage", T0 + 10, "timeout")
    assert registry.status("alpha_vantage", T0 + S).status == "degraded"


def test_no_success_for_a_while_is_degraded_then_down() -> None:
    registry = ProviderRegistry(window_s=10)
    registry.register(FakeVendor())
    registry.record_success("alpha_vantage", T0)
    assert registry.status("alpha_vantage", T0 + 59 * S).status == "ok"
    assert registry.status("alpha_vantage", T0 + 61 * S).status == "degraded"
    assert registry.status("alpha_vantage", T0 + 301 * S).status == "down"


def test_failure_reasons_never_keep_a_credential() -> None:
    registry = ProviderRegistry()
    registry.register(FakeVendor())
    registry.record_failure("alpha_vantage", T0, "401 for Authorization: Bearer sekret-token-123 "
                            + "x" * 500)
    error = registry.status("alpha_vantage", T0).last_error
    assert error is not None
    assert "sekret" not in error
    assert len(error) <= 200


def test_poll_records_what_providers_report() -> None:
    answers = iter([Outcome(True), Outcome(False, "boom"), None])

    class Flaky(FakeVendor):
        def poll(self, now_ns: int) -> Outcome | None:
            return next(answers)

    registry = ProviderRegistry()
    registry.register(Flaky())
    for i in range(3):
        registry.poll(T0 + i * S)
    status = registry.status("alpha_vantage", T0 + 3 * S)
    assert (status.samples, status.error_rate, status.last_error) == (2, 0.5, "boom")


def test_active_providers_keep_their_priority_order() -> None:
    registry = ProviderRegistry()
    registry.register(FakeVendor("primary"))
    registry.register(FakeVendor("standby"), active=False)
    registry.register(FakeVendor("backup"))
    assert registry.active() == ["primary", "backup"]
    assert registry.names() == ["primary", "standby", "backup"]


def test_registering_twice_or_recording_for_an_unknown_provider_fails() -> None:
    registry = ProviderRegistry()
    registry.register(FakeVendor())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FakeVendor())
    with pytest.raises(KeyError, match="'replay' is not registered"):
        registry.record_success("replay", T0)


# ---- the simulator provider --------------------------------------------------------------
@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = bootstrap(Settings(data_dir=tmp_path, database_url=None),
                         authenticator=ViewerAuthenticator())
    platform.open()
    yield platform
    if platform.runtime is not None:
        platform.runtime.close()
    if platform.projector is not None:
        platform.projector.stop()


def test_the_simulator_succeeds_when_the_pump_delivered_quotes_since_the_last_poll(
        platform: Platform) -> None:
    sim = SimulatorProvider.for_platform(platform)
    assert sim.poll(T0) is None  # not started: the pump is meant to be idle
    platform.accepting = True
    assert sim.poll(T0) is None  # no first quote yet: no verdict (status stays down meanwhile)
    platform.last_quote_ns = T0
    assert sim.poll(T0) == Outcome(True)
    assert sim.poll(T0 + S) == Outcome(False, "no new quotes since the last poll")


# ---- API ---------------------------------------------------------------------------------
@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(providers.build(platform)) as client:
        yield client
        client.portal.call(ProvidersService.for_platform(platform).stop)


def test_health_is_public_and_down_before_the_feed_delivers(client: TestClient) -> None:
    body = client.get("/health").json()
    assert (body["status"], body["providers_status"]) == ("down", "down")
    assert body["active_providers"] == ["simulator"]


def test_providers_needs_a_credential(client: TestClient) -> None:
    response = client.get("/providers")
    assert response.status_code == 401


def test_providers_reports_the_simulator_once_it_delivers(platform: Platform,
                                                          client: TestClient) -> None:
    svc = ProvidersService.for_platform(platform)
    svc.poll_interval_s = 60  # this test polls by hand
    platform.accepting = True
    platform.last_quote_ns = time.time_ns()
    svc.registry.poll(time.time_ns())

    body = client.get("/providers", headers=VIEWER).json()

    assert body["active_providers"] == ["simulator"]
    [sim] = body["providers"]
    assert sim["name"] == "simulator"
    assert sim["kind"] == "simulator"
    assert sim["status"] == "ok"
    assert sim["last_success"].endswith("Z")
    assert sim["error_rate"] == 0.0
    assert sim["rate_limit"] is None
    assert not any("key" in field or "secret" in field for field in sim)
    health = client.get("/health").json()
    assert (health["status"], health["providers_status"]) == ("healthy", "ok")


def test_starting_the_platform_starts_the_poller(platform: Platform, client: TestClient) -> None:
    svc = ProvidersService.for_platform(platform)
    assert client.get("/health").json()["polling"] is False  # a request starts nothing

    async def running() -> bool:
        await platform.start()  # the spec's task, whatever face serves the service
        for _ in range(100):
            if svc._active is not None:
                return True
            await asyncio.sleep(0.001)
        return False

    try:
        assert client.portal.call(running)
        assert client.get("/health").json()["polling"] is True
    finally:
        client.portal.call(platform.stop)
    assert svc._active is None


def test_providers_status_is_degraded_when_some_active_provider_is_down(platform: Platform) -> None:
    registry = ProviderRegistry()
    registry.register(SimulatorProvider.for_platform(platform))
    registry.register(FakeVendor())
    svc = ProvidersService(platform.core, registry)
    registry.record_success("simulator", time.time_ns())
    assert svc.providers_status() == "degraded"
    assert svc.health()["status"] == "degraded"


def test_the_rest_face_and_the_task_share_one_service(tmp_path: Path) -> None:
    platform = Platform(Settings(data_dir=tmp_path, database_url=None))
    providers.build(platform)
    assert background(platform) is ProvidersService.for_platform(platform)
    assert not platform.background  # the platform starts the spec's task, not the face
