"""TLS in distributed mode: every service process serves HTTPS with the configured certificate
(one process per service over PostgreSQL and Redis), the supervisor's readiness probes and the
CLI trust MCP_TRADING_TLS_CA, an order goes through the trading engine over HTTPS, and plain
HTTP is not served."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.e2e.distributed_harness import DistributedPlatform
from tests.e2e.test_tls import _tls_env

from mcp_trading.security.cert_ops import served_certificate
from mcp_trading.security.certs import describe

pytestmark = pytest.mark.slow


def test_every_service_process_serves_https(
        distributed_factory: Callable[..., DistributedPlatform], tmp_path: Path) -> None:
    env = _tls_env(tmp_path / "tls")
    p = distributed_factory(**env)
    serial = describe(Path(env["MCP_TRADING_TLS_CERT"])).serial
    for name, port in p.ports.items():
        assert served_certificate("127.0.0.1", port).serial == serial, name
    verify = ssl.create_default_context(cafile=env["MCP_TRADING_TLS_CA"])
    with httpx.Client(base_url=f"https://127.0.0.1:{p.ports['trading-engine']}",
                      verify=verify, timeout=15) as engine:
        placed = engine.post("/orders", json={"symbol": "SPY", "qty": 1, "side": "buy",
                                              "type": "market", "client_order_id": "tls-1"})
        assert placed.status_code == 200, placed.text
    with httpx.Client(base_url=f"https://127.0.0.1:{p.ports['orders']}", verify=verify,
                      timeout=15) as orders:  # another process, reading what the engine wrote
        def listed() -> bool:
            rows = orders.get("/orders", params={"status": "all", "limit": 50}).json()["orders"]
            return "tls-1" in {o["client_order_id"] for o in rows}

        p.wait_for(listed, what="the order on the orders service")
    with pytest.raises(httpx.HTTPError):  # plain HTTP is not served
        httpx.get(f"http://127.0.0.1:{p.ports['market-data']}/health", timeout=5)
    status = json.loads(p.cli("status", "--json", check=True).stdout)  # the CLI trusts the CA
    assert all(row["status"] == "healthy" for row in status["services"]), status
