"""HTTPS on a running platform with a certificate from the test's own CA: clients verify it
(MCP_TRADING_TLS_CA), plain HTTP is not served, and `manage_certificates.sh renew` (a renewal
command, as certbot would be) reaches every service without a restart while orders flow —
every acknowledged order is there, no 5xx, new handshakes present the new serial."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from tests.e2e.harness import SERVICES, RunningPlatform

from mcp_trading.security.cert_ops import served_certificate
from mcp_trading.security.certs import describe, issue_ca, issue_server

pytestmark = pytest.mark.slow

ORDER = {"symbol": "SPY", "qty": "1", "side": "buy", "type": "market"}
RENEW = """import sys
from pathlib import Path
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from mcp_trading.security.certs import Issuer, issue_server
ca, key, cert_out, key_out = map(Path, sys.argv[1:5])
issuer = Issuer(x509.load_pem_x509_certificate(ca.read_bytes()),
                serialization.load_pem_private_key(key.read_bytes(), password=None))
issue_server(cert_out, key_out, hosts=["127.0.0.1", "localhost"], issuer=issuer)
"""


def _tls_env(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    ca = issue_ca()
    (folder / "ca.pem").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.key").write_bytes(ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (folder / "ca.key").chmod(0o600)
    cert, key = folder / "server.pem", folder / "server.key"
    issue_server(cert, key, hosts=["127.0.0.1", "localhost"], issuer=ca)
    (folder / "renew.py").write_text(RENEW)
    command = (f"{sys.executable} {folder / 'renew.py'} {folder / 'ca.pem'} {folder / 'ca.key'} "
               f"{cert} {key}")
    return {"MCP_TRADING_TLS_CERT": str(cert), "MCP_TRADING_TLS_KEY": str(key),
            "MCP_TRADING_TLS_CA": str(folder / "ca.pem"), "MCP_TRADING_TLS_RENEW_COMMAND": command,
            "MCP_TRADING_TLS_RELOAD_INTERVAL_S": "0.5", "MCP_TRADING_DEFAULT_CASH": "100000000"}


class _Orders:
    """Market orders over HTTPS: a keep-alive connection opened before the renewal, and a
    fresh connection (a new handshake) for every fifth order."""

    def __init__(self, url: str, verify: ssl.SSLContext | bool) -> None:
        self.url, self.verify = url, verify
        self.acked: list[str] = []
        self.bad: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=15, verify=self.verify) as kept:
            n = 0
            while not self.stop.is_set():
                n += 1
                coid = f"tls-{n}"
                try:
                    if n % 5:
                        response = kept.post(self.url, json={**ORDER, "client_order_id": coid})
                    else:
                        with httpx.Client(timeout=15, verify=self.verify) as fresh:
                            response = fresh.post(self.url,
                                                  json={**ORDER, "client_order_id": coid})
                except httpx.HTTPError as exc:
                    self.bad.append(f"{coid}: {type(exc).__name__} {exc}")
                    continue
                if response.status_code == 200:
                    self.acked.append(coid)
                else:
                    self.bad.append(f"{coid}: {response.status_code} {response.text[:200]}")
                self.stop.wait(0.02)


def test_https_platform_renews_its_certificate_under_load(
        platform_factory: Callable[..., RunningPlatform], tmp_path: Path) -> None:
    env = _tls_env(tmp_path / "tls")
    p = platform_factory(**env)
    old = describe(Path(env["MCP_TRADING_TLS_CERT"])).serial
    port = p.ports["trading-engine"]
    with pytest.raises(httpx.HTTPError):  # HTTPS only on the service ports
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=3)
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the test CA
        httpx.get(p.url("trading-engine", "/health"), timeout=3)
    p.wait_for(lambda: p.health("market-data").get("market_data_status") == "streaming", 60)
    assert p.script("quick_health_check.sh").returncode == 0  # curl --cacert over HTTPS

    orders = _Orders(p.url("trading-engine", "/orders"), p.verify)
    orders.thread.start()
    try:
        orders.stop.wait(1.5)
        renewed = p.script("manage_certificates.sh", "renew", "--json")
        orders.stop.wait(1.5)
    finally:
        orders.stop.set()
        orders.thread.join(30)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    result = json.loads(renewed.stdout)
    assert result["not_reloaded"] == [] and result["running"] is True
    new = describe(Path(env["MCP_TRADING_TLS_CERT"])).serial
    assert new != old and result["serial"] == f"{new:x}"
    for service in SERVICES:  # new handshakes on every port present the new certificate
        assert served_certificate("127.0.0.1", p.ports[service]).serial == new, service

    assert orders.bad == [], orders.bad[:5]
    assert len(orders.acked) > 20
    engine = p.client("trading-engine")
    for coid in orders.acked:  # every acknowledged order is there
        assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200, coid
    assert p.process is not None and p.process.poll() is None  # never restarted

    check = p.cli("certs", "check")
    assert check.returncode == 0 and "Not After" in check.stdout and "test CA" in check.stdout
    health = json.loads(p.cli("health", "--check-all", "--json").stdout)
    rows = {c["check"]: c for c in health["checks"]}
    assert rows["certificate"]["status"] == "healthy", rows["certificate"]
    assert "days to expiry" in rows["certificate"]["detail"]
    assert all(rows[f"service:{s}"]["status"] == "healthy" for s in SERVICES)  # CLI over HTTPS
