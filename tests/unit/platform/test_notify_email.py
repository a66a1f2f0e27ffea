"""Alert e-mail against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from mcp_trading.config_alerts import AlertMailSettings
from mcp_trading.platform.alert_center import Alert, Severity
from mcp_trading.platform.alert_routing import Route, Routing
from mcp_trading.platform.notify_email import EmailNotifier


class _Sink:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"


def _alert(kind: str, severity: str, message: str) -> Alert:
    return Alert(id=1, kind=kind, severity=Severity(severity), message=message, source="test", ts=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_halt_resume_maintenance_mail_the_trading_desk() -> None:
    sink, port = _Sink(), _free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        settings = AlertMailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                     smtp_password=SecretStr("hunter2-secret"),
                                     alert_recipients_trading_desk="desk@example.com",
                                     alert_recipients_ops_team="ops@example.com")

        async def go() -> None:
            n = EmailNotifier(settings)
            n.start()
            for kind in ("halt", "resume", "maintenance"):
                assert n.notify(_alert(kind, "critical", f"{kind} by operator"))
            await n.stop()

        asyncio.run(go())
    finally:
        ctl.stop()
    assert len(sink.mails) == 3
    for mail, kind in zip(sink.mails, ("halt", "resume", "maintenance"), strict=True):
        text = mail.content.decode()
        assert mail.rcpt_tos == ["desk@example.com"]
        assert f"kind: {kind}" in text and "severity: critical" in text
        assert f"{kind} by operator" in text and "hunter2" not in text


def test_standard_routing_is_the_runbooks_lists() -> None:
    standard = Routing.standard()
    assert standard.lists(_alert("halt", "critical", "x")) == ["trading-desk"]
    assert standard.lists(_alert("security_breach", "critical", "x")) == ["security-team"]
    assert standard.lists(_alert("disk_full", "warning", "x")) == ["ops-team"]


def test_routing_by_kind_and_severity() -> None:
    routing = Routing(routes=(Route(to="trading-desk", kinds=("halt",)),
                              Route(to="ops-team", severities=(Severity.CRITICAL,))),
                      default="ops-team", default_severities=(Severity.WARNING,
                                                              Severity.CRITICAL))
    assert routing.lists(_alert("halt", "critical", "x")) == ["trading-desk", "ops-team"]
    assert routing.lists(_alert("halt", "info", "x")) == ["trading-desk"]
    assert routing.lists(_alert("disk", "critical", "x")) == ["ops-team"]
    assert routing.lists(_alert("disk", "warning", "x")) == ["ops-team"]  # the default
    assert routing.lists(_alert("disk", "info", "x")) == []  # the default takes no info


def test_an_unreachable_server_does_not_hold_up_the_stop() -> None:
    settings = AlertMailSettings(smtp_host="127.0.0.1", smtp_port=_free_port(),
                                 smtp_starttls=False, alert_recipients_ops_team="ops@example.com")

    async def go() -> EmailNotifier:
        n = EmailNotifier(settings, retries=50, backoff_s=0.2)
        n.start()
        for i in range(3):
            n.notify(_alert("disk", "warning", f"mail {i}"))
        await asyncio.wait_for(n.stop(drain_s=0.5), timeout=5)
        return n

    notifier = asyncio.run(go())
    assert notifier.failed == 3  # the one being tried and the two queued, counted


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_authentication_with_the_configured_login(caplog: Any) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"hunter2-secret"
        if isinstance(data, LoginPassword):
            logins.append((data.login, data.password))
        return AuthResult(success=ok)

    def run(password: str) -> _Sink:
        sink, port = _Sink(), _free_port()
        ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator,
                         auth_required=True, auth_require_tls=False)
        ctl.start()
        try:
            settings = AlertMailSettings(smtp_host="127.0.0.1", smtp_port=port,
                                         smtp_starttls=False, smtp_user="alerts",
                                         smtp_password=SecretStr(password),
                                         alert_recipients_ops_team="ops@example.com")

            async def go() -> None:
                n = EmailNotifier(settings, retries=1)
                n.start()
                n.notify(_alert("disk", "warning", "disk filling"))
                await n.stop()

            asyncio.run(go())
        finally:
            ctl.stop()
        return sink

    assert len(run("hunter2-secret").mails) == 1
    assert logins == [(b"alerts", b"hunter2-secret")]
    with caplog.at_level("WARNING"):
        assert run("wrong-password").mails == []  # refused: logged and counted, not sent
    assert "failed" in caplog.text and "wrong-password" not in caplog.text
