"""Alert e-mail against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiosmtpd.controller import Controller
from pydantic import SecretStr

from mcp_trading.config_alerts import AlertMailSettings
from mcp_trading.platform.alert_center import Alert, Severity
from mcp_trading.platform.notify_email import EmailNotifier, route


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


def test_routing() -> None:
    assert route(_alert("halt", "critical", "x")) == "trading-desk"
    assert route(_alert("security_breach", "critical", "x")) == "security-team"
    assert route(_alert("disk_full", "warning", "x")) == "ops-team"
