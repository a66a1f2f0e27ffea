"""The runbook's Security Incident Response on a running platform: scripts/security_incident.sh."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

import httpx
from tests.e2e.harness import RunningPlatform

LIMIT = {"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit", "limit_price": "1.00",
         "time_in_force": "gtc"}


def test_security_incident_script_halts_revokes_rotates_collects_and_alerts(
        running: RunningPlatform) -> None:
    keys = [json.loads(running.cli("keys", "create", "--role", role, *scope, "--json",
                                   check=True).stdout)["key"]
            for role, scope in (("trader", ("--account", "paper")),
                                ("admin", ("--all-accounts",)))]
    trader = running.client("trading-engine", keys[0])
    placed = trader.post("/orders", json=LIMIT)
    assert placed.status_code in (200, 201), placed.text
    order_id = placed.json()["id"]

    result = running.script("security_incident.sh", "key", "leaked", "in", "a", "log")

    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "every step completed" in out
    te = running.url("trading-engine")
    assert running.health("trading-engine")["trading_status"] == "halted"
    order = httpx.get(f"{te}/orders/{order_id}", timeout=10).json()  # dev: loopback trust
    assert order["status"] == "canceled"
    for key in keys:  # every key refused (each process re-reads a key within its TTL)
        running.wait_for(lambda k=key: httpx.get(f"{te}/account", timeout=5, headers={
            "Authorization": f"Bearer {k}"}).status_code == 401)
    log = [json.loads(line) for line in
           (running.data_dir / "logs" / "emergency.log").read_text().splitlines()]
    outcomes = {e["action"]: e["outcome"] for e in log if e["action"].startswith("breach-")}
    assert outcomes == {f"breach-{s}": "ok" for s in
                        ("halt", "revoke-keys", "rotate-jwt", "collect-evidence", "alert")}
    assert any(e["action"] == "halt:halted" and "security breach" in e["reason"] for e in log)
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("evidence: ")]
    evidence = Path(line.removeprefix("evidence: "))
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o600
    with tarfile.open(evidence) as tar:
        names = set(tar.getnames())
        connections = json.loads(tar.extractfile("connections.json").read())  # type: ignore[union-attr]
        status = json.loads(tar.extractfile("status.json").read())  # type: ignore[union-attr]
        texts = [tar.extractfile(m).read().decode() for m in tar.getmembers()]  # type: ignore[union-attr]
    assert {"logs/emergency.log", "journal.jsonl", "health.json", "settings.json"} <= names
    assert status["running"] is True
    listening = {int(c["local"].rsplit(":", 1)[1]) for c in connections if c["status"] == "LISTEN"}
    assert set(running.ports.values()) <= listening
    assert not any(key in text for key in keys for text in texts)
    # the operator regains access on the host
    again = json.loads(running.cli("keys", "create", "--role", "admin", "--all-accounts",
                                   "--json", check=True).stdout)["key"]
    assert httpx.get(f"{te}/account", timeout=5,
                     headers={"Authorization": f"Bearer {again}"}).status_code == 200
