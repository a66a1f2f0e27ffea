"""Roles and credentials in the production profile, over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from tests.e2e.harness import ROOT, make_platform

SECRET = "e2e-production-secret-with-enough-length-0123456789"


def test_production_refuses_to_start_with_the_default_jwt_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = make_platform(tmp_path, MCP_TRADING_PROFILE="production")
    result = subprocess.run([sys.executable, "-m", "mcp_trading", "start"], env=p.env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0
    assert "JWT_SECRET" in (result.stdout + result.stderr)


def test_production_refuses_to_start_with_a_low_entropy_jwt_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = make_platform(tmp_path, MCP_TRADING_PROFILE="production", JWT_SECRET="a" * 40)
    result = subprocess.run([sys.executable, "-m", "mcp_trading", "start"], env=p.env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "too little entropy" in out and "secrets.token_urlsafe(48)" in out
    assert "a" * 40 not in out  # never echoed


def test_production_refuses_to_start_with_a_secrets_file_others_may_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from mcp_trading.config import Settings
    from mcp_trading.security.rotation import rotate_jwt

    p = make_platform(tmp_path, MCP_TRADING_PROFILE="production", JWT_SECRET=SECRET)
    settings = Settings(data_dir=p.data_dir)
    rotate_jwt(settings, grace_s=0)
    os.chmod(settings.resolved_secrets_file, 0o644)
    result = subprocess.run([sys.executable, "-m", "mcp_trading", "start"], env=p.env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "0644" in out and "chmod 600" in out and "secrets" in out


def test_role_by_route_matrix_in_production(platform_factory) -> None:  # type: ignore[no-untyped-def]
    p = platform_factory(start=False, MCP_TRADING_PROFILE="production", JWT_SECRET=SECRET)
    keys = {}
    for role in ("viewer", "trader", "operator", "admin"):
        scope = ("--account", "paper") if role in ("viewer", "trader") else ("--all-accounts",)
        out = p.cli("keys", "create", "--role", role, *scope, "--name", f"e2e-{role}", "--json",
                    check=True)
        keys[role] = json.loads(out.stdout)["key"]
    p.start()
    matrix = [  # (service, method, path, body, minimum role)
        ("trading-engine", "GET", "/account", None, "viewer"),
        ("trading-engine", "GET", "/positions", None, "viewer"),
        ("trading-engine", "GET", "/metrics", None, "viewer"),
        ("trading-engine", "POST", "/orders", {"symbol": "SPY", "qty": 1, "side": "buy",
                                                "type": "limit", "limit_price": "1.00"}, "trader"),
        ("trading-engine", "POST", "/orders/test", None, "operator"),
        ("trading-engine", "POST", "/emergency/halt-new-orders", None, "operator"),
        ("trading-engine", "POST", "/emergency/resume-trading",
         {"force": True, "reason": "matrix"}, "admin"),
    ]
    order = ["viewer", "trader", "operator", "admin"]
    for service, method, path, body, minimum in matrix:
        url = p.url(service, path)
        anonymous = httpx.request(method, url, json=body, timeout=10)
        assert anonymous.status_code == 401, (path, anonymous.text)
        for role in order:
            r = httpx.request(method, url, json=body, timeout=10,
                              headers={"Authorization": f"Bearer {keys[role]}"})
            allowed = order.index(role) >= order.index(minimum)
            if allowed:
                assert r.status_code < 400 or r.status_code in (409, 503), (path, role, r.text)
            else:
                assert r.status_code == 403, (path, role, r.status_code, r.text)
    bad = httpx.get(p.url("trading-engine", "/account"), timeout=10,
                    headers={"Authorization": "Bearer mcpt_nope_notakey"})
    assert bad.status_code == 401
    assert httpx.get(p.url("trading-engine", "/health"), timeout=10).status_code == 200
    for key in keys.values():  # no secret is ever echoed back
        assert key not in bad.text
    log = (p.data_dir / "logs" / "emergency.log").read_text()
    assert all(key not in log for key in keys.values())


def test_the_data_dir_and_its_secret_files_are_the_owners_only_after_start(
        platform_factory) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    old = os.umask(0o022)  # the usual login umask: the platform must not rely on it
    try:
        p = platform_factory(start=False)
        created = p.cli("keys", "create", "--role", "viewer", "--account", "paper", "--json")
        assert created.returncode == 0, created.stderr
        p.start()
        te = p.client("trading-engine")
        assert te.post("/emergency/halt-new-orders").status_code == 200  # an emergency.log line
    finally:
        os.umask(old)
    data = p.data_dir
    files = [data / "trading.db", data / "mcp-trading.pid", data / "logs" / "emergency.log",
             *(data / "logs").glob("*.log")]
    assert all(f.exists() for f in files), [f for f in files if not f.exists()]
    modes = {str(f.relative_to(data)): stat.S_IMODE(f.stat().st_mode) for f in files}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "logs").stat().st_mode) == 0o700
    assert all(mode & 0o077 == 0 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}
