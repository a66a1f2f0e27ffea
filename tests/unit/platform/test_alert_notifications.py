"""Alerts reach the configured webhooks as JSON; a failing webhook never breaks the platform."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from mcp_trading.platform.alert_center import AlertCenter, EmergencyLog, Severity


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=s3cret", received
    server.shutdown()


def test_an_alert_is_posted_to_every_webhook(webhook: tuple[str, list[dict[str, object]]]) -> None:
    url, received = webhook

    async def scenario() -> None:
        center = AlertCenter(webhooks=[url])
        center.raise_alert("halt", "halted by ops: drill", severity=Severity.CRITICAL,
                           source="trading-engine")
        for _ in range(100):
            if received:
                return
            await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert len(received) == 1
    body = received[0]
    assert body["kind"] == "halt" and body["severity"] == "critical"
    assert body["message"] == "halted by ops: drill" and body["acknowledged"] is False


def test_a_dead_webhook_is_counted_and_logged_without_its_token(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> AlertCenter:
        center = AlertCenter(webhooks=["http://127.0.0.1:9/hook?token=s3cret"])
        center.raise_alert("health", "feed stale")
        for _ in range(100):
            if center.webhook_failures:
                break
            await asyncio.sleep(0.02)
        return center

    center = asyncio.run(scenario())
    assert center.webhook_failures == 1
    assert center.list()[0].kind == "health"
    assert "s3cret" not in caplog.text


def test_acknowledging_an_alert_records_who_and_is_idempotent() -> None:
    center = AlertCenter()
    alert = center.raise_alert("stale_feed", "no quote for 6 s")
    assert center.open_count == 1
    assert center.acknowledge(alert.id, "key:abc") is alert
    assert center.acknowledge(alert.id, "key:other") is alert
    assert alert.acknowledged_by == "key:abc" and center.open_count == 0
    assert center.acknowledge(999, "key:abc") is None


def test_the_emergency_log_appends_one_json_line_per_action(tmp_path: Path) -> None:
    log = EmergencyLog(tmp_path / "logs" / "emergency.log")
    log.append("halt:halted", actor="local:loopback", reason="drill", canceled=3)
    log.append("resume", actor="key:abc", reason="drill over")
    lines = [json.loads(x) for x in (tmp_path / "logs" / "emergency.log").read_text().splitlines()]
    assert [e["action"] for e in lines] == ["halt:halted", "resume"]
    assert lines[0]["canceled"] == 3 and lines[1]["actor"] == "key:abc" and lines[0]["ts"]
