"""trading-engine :8010 over a real platform: emergency resume."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from mcp_trading.platform.platform import Platform
from mcp_trading.platform.rest import trading_engine

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(trading_engine.build(platform, failing_checks=list))


def _log_lines(platform: Platform) -> list[str]:
    path = platform.emergency_log.path
    return path.read_text().splitlines() if path.exists() else []


def test_resume_on_an_active_platform_is_a_no_op_answer(client: TestClient, auth: Auth,
                                                        platform: Platform) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = client.post("/emergency/resume-trading", json={"reason": "just in case"},
                           headers=auth("operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "already_active"
    assert body["trading_status"] == "active"
    assert set(body) >= {"trading_status", "reason", "forced"}  # the fields resume returns
    assert platform.kernel_runtime.kernel.seq == seq  # nothing journaled
    assert _log_lines(platform) == []  # no emergency entry
    assert platform.alerts.list() == []  # no alert


def test_resume_after_a_halt_resumes_and_is_logged(client: TestClient, auth: Auth,
                                                   platform: Platform) -> None:
    assert client.post("/emergency/halt-new-orders", headers=auth("operator")).status_code == 200
    response = client.post("/emergency/resume-trading", json={"reason": "drill over"},
                           headers=auth("operator"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "resumed"
    assert response.json()["trading_status"] == "active"
    assert [line for line in _log_lines(platform) if '"action": "resume"' in line]
    seq = platform.kernel_runtime.kernel.seq
    again = client.post("/emergency/resume-trading", headers=auth("operator")).json()
    assert again["status"] == "already_active"
    assert platform.kernel_runtime.kernel.seq == seq
    assert sum('"action": "resume"' in line for line in _log_lines(platform)) == 1


def test_resume_on_an_active_platform_still_needs_an_operator(client: TestClient,
                                                              auth: Auth) -> None:
    assert client.post("/emergency/resume-trading", headers=auth("trader")).status_code == 403
