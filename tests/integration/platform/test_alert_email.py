"""Alert e-mail at platform level, against a real local SMTP server (aiosmtpd): the real halt,
resume and maintenance paths of a started platform mail the lists the alerting file routes
them to; without an SMTP server no sender runs; the sender stops with the platform."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from tests.integration.platform.conftest import FakeAuthenticator
from tests.smtp_server import Received, smtp_server

from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.alerts import rest as alerts_rest
from mcp_trading.services.alerts.notify import AlertingTask
from mcp_trading.services.trading_engine import rest as engine_rest

OPERATOR = {"Authorization": "Bearer operator"}


def _settings(tmp_path: Path, port: int, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                    smtp_starttls=False, alert_recipients_trading_desk="desk@example.com",
                    alert_recipients_ops_team="ops@example.com", **extra)


def _driven(mails: list[Received]) -> list[Received]:
    """The mails of the alerts the test drives (a loaded machine may add a stale feed's)."""
    return [m for m in mails if any(f"] {k}" in m.subject for k in ("halt", "resume",
                                                                     "maintenance"))]


async def _until_streaming(platform: Platform) -> None:
    for _ in range(600):  # 30 s: the machine may be loaded
        if platform.health.feed_status == "streaming":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the feed never streamed: {platform.health}")


async def _drive(platform: Platform) -> None:
    """Halt, resume, maintenance start and complete, through the services' REST routes."""
    await platform.start()
    try:
        await _until_streaming(platform)
        engine = httpx.AsyncClient(transport=httpx.ASGITransport(app=engine_rest.build(
            platform, failing_checks=list)), base_url="http://engine")
        alerts = httpx.AsyncClient(transport=httpx.ASGITransport(app=alerts_rest.build(
            platform, failing_checks=list)), base_url="http://alerts")
        async with engine, alerts:
            for client, path in ((engine, "/emergency/halt-new-orders"),
                                 (engine, "/emergency/resume-trading"),
                                 (alerts, "/alerts/maintenance-start"),
                                 (alerts, "/alerts/maintenance-complete")):
                response = await client.post(path, json={"reason": f"drill {path}"},
                                             headers=OPERATOR)
                assert response.status_code == 200, response.text
    finally:
        await platform.stop()  # sends what is queued


def test_halt_resume_and_maintenance_mail_the_trading_desk(tmp_path: Path) -> None:
    with smtp_server() as sink:
        platform = bootstrap(_settings(tmp_path, sink.port), authenticator=FakeAuthenticator())
        asyncio.run(_drive(platform))
        desk = sink.to("desk@example.com")
        subjects = [m.subject for m in desk]
        assert len(desk) == 4, subjects
        assert "halt" in subjects[0] and "[CRITICAL]" in subjects[0]
        assert "resume" in subjects[1]
        assert "maintenance-start" in subjects[2] and "maintenance-complete" in subjects[3]
        assert "drill /emergency/halt-new-orders" in desk[0].body
        assert "raised by: trading-engine" in desk[0].body
        # the shipped routing: operations hear of every critical alert too (the halt)
        ops = _driven(sink.to("ops@example.com"))
        assert [m.subject for m in ops] == [subjects[0]]
    # the alerts file keeps the timeline for `mcp-trading incident report`
    lines = (tmp_path / "logs" / "alerts.log").read_text().splitlines()
    assert len(lines) == 4 and '"kind": "halt"' in lines[0]


def test_routing_comes_from_the_alerting_file(tmp_path: Path) -> None:
    rules = tmp_path / "alerting.toml"
    rules.write_text('[routing]\ndefault = "ops-team"\ndefault_severities = ["critical"]\n'
                     '[[routing.routes]]\nto = "security-team"\nkinds = ["halt"]\n'
                     'severities = ["critical"]\n')
    with smtp_server() as sink:
        settings = _settings(tmp_path / "data", sink.port, alerting_file=rules,
                             alert_recipients_security_team="sec@example.com")
        asyncio.run(_drive(bootstrap(settings, authenticator=FakeAuthenticator())))
        # the halt (critical) to security only; resume (warning) and maintenance: nobody
        driven = _driven(sink.mails)
        assert [m.rcpt_tos for m in driven] == [["sec@example.com"]]
        assert "halt" in driven[0].subject


def test_no_smtp_server_no_sender(tmp_path: Path) -> None:
    async def scenario() -> None:
        platform = bootstrap(Settings(data_dir=tmp_path), authenticator=FakeAuthenticator())
        await platform.start()
        try:
            works = [w for w in platform.service_work() if isinstance(w, AlertingTask)]
            assert len(works) == 1 and works[0].mailer is None
            assert works[0].file.append in platform.alerts.notifiers
        finally:
            await platform.stop()
        assert platform.alerts.notifiers == []  # detached at stop

    asyncio.run(scenario())


def test_an_unacknowledged_halt_escalates_by_mail_after_15_minutes(tmp_path: Path) -> None:
    async def scenario(platform: Platform) -> None:
        await platform.start()
        try:
            task = next(w for w in platform.service_work() if isinstance(w, AlertingTask))
            engine = httpx.AsyncClient(transport=httpx.ASGITransport(app=engine_rest.build(
                platform, failing_checks=list)), base_url="http://engine")
            async with engine:
                response = await engine.post("/emergency/halt-new-orders",
                                             json={"reason": "drill"}, headers=OPERATOR)
                assert response.status_code == 200, response.text
            clock = ManualClock(time.time_ns())  # the alert's time or later
            task.escalator.clock = clock
            clock.advance(14 * 60 * 1_000_000_000)
            assert task.escalator.poll() == []
            clock.advance(60 * 1_000_000_000)
            assert [level for _, level in task.escalator.poll()] == [2]
        finally:
            await platform.stop()

    with smtp_server() as sink:
        settings = _settings(tmp_path, sink.port, alert_recipients_senior_ops="senior@example.com",
                             alert_recipients_dev_lead="lead@example.com")
        asyncio.run(scenario(bootstrap(settings, authenticator=FakeAuthenticator())))
        escalated = [m for m in sink.mails if m.subject.startswith("[ESCALATED]")]
        assert len(escalated) == 1
        assert sorted(escalated[0].rcpt_tos) == ["lead@example.com", "senior@example.com"]
        assert "level 2" in escalated[0].body and "halt" in escalated[0].subject
