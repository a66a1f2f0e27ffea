"""`scripts/manage_certificates.sh check|renew|backup` over `mcp-trading certs` without a
running platform: exit codes, what check prints, a dev renewal, a private backup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_trading.security.certs import describe, issue_server

ROOT = Path(__file__).resolve().parents[3]


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    full.update({"MCP_TRADING_DATA_DIR": str(tmp_path / "var"),
                 "PATH": f"{Path(sys.executable).parent}:{full.get('PATH', '')}",
                 "PYTHONPATH": str(ROOT / "src"), **env})
    return subprocess.run(["bash", str(ROOT / "scripts" / "manage_certificates.sh"), *args],
                          env=full, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_check_renew_backup(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    tls = {"MCP_TRADING_TLS_CERT": str(cert), "MCP_TRADING_TLS_KEY": str(key)}
    assert _run(tmp_path, "nonsense").returncode == 2
    missing = _run(tmp_path, "check")
    assert missing.returncode == 2 and "MCP_TRADING_TLS_CERT" in missing.stderr
    assert _run(tmp_path, "check", **tls).returncode == 2  # configured, no file yet

    issue_server(cert, key, hosts=["localhost"], days=3)
    soon = _run(tmp_path, "check", **tls)
    assert soon.returncode == 1, soon.stdout + soon.stderr
    assert "Not After:" in soon.stdout and "Subject:" in soon.stdout and "expiring" in soon.stderr
    assert _run(tmp_path, "check", **tls, MCP_TRADING_TLS_CHECK_DAYS="2").returncode == 0

    before = describe(cert).serial
    renewed = _run(tmp_path, "renew", "--json", **tls)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    body = json.loads(renewed.stdout)
    assert body["running"] is False and int(body["serial"], 16) == describe(cert).serial != before
    assert _run(tmp_path, "check", **tls).returncode == 0  # 90 days now

    backup = _run(tmp_path, "backup", "--json", **tls)
    assert backup.returncode == 0, backup.stderr
    archive = Path(json.loads(backup.stdout)["archive"])
    assert archive.is_file() and archive.stat().st_mode & 0o777 == 0o600
    refused = _run(tmp_path, "renew", **tls, MCP_TRADING_PROFILE="production")
    assert refused.returncode == 1 and "MCP_TRADING_TLS_RENEW_COMMAND" in refused.stderr
