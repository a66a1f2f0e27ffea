"""The runbook's backup and restore on a running platform (real projector process, REST
orders): scripts/backup_databases.sh while orders flow verifies; health reports the backup;
scripts/restore_databases.sh latest sqlite stops the platform gracefully, restores, and after
a restart every order acknowledged before the backup is there and the later ones are not."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from tests.e2e.harness import RunningPlatform


def _orders(url: str, stop: threading.Event, out: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=url, timeout=15) as c:
        while not stop.is_set():
            r = c.post("/orders", json={"symbol": "SPY", "qty": 1, "side": "buy",
                                        "type": "limit", "limit_price": "1.00",
                                        "time_in_force": "gtc"})
            if r.status_code == 200:
                out.append(r.json())


def test_backup_while_trading_then_restore_with_stop(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    engine = p.url("trading-engine")
    before: list[dict[str, Any]] = []
    stop = threading.Event()
    flow = threading.Thread(target=_orders, args=(engine, stop, before))
    flow.start()
    try:
        time.sleep(1.0)
        acked_before_backup = list(before)
        backed = p.script("backup_databases.sh", "--json")
    finally:
        stop.set()
        flow.join()
    assert backed.returncode == 0, backed.stdout + backed.stderr
    manifest = json.loads(backed.stdout.splitlines()[1])
    assert manifest["status"] == "verified"
    assert len(before) > len(acked_before_backup), "no order flowed during the backup"
    health = json.loads(p.cli("health", "--check-all", "--json").stdout)
    [check] = [c for c in health["checks"] if c["check"] == "backup"]
    assert check["status"] == "healthy" and manifest["name"] in check["detail"]

    later = httpx.post(f"{engine}/orders", json={"symbol": "SPY", "qty": 2, "side": "buy",
                                                 "type": "limit", "limit_price": "1.00",
                                                 "time_in_force": "gtc"}, timeout=15).json()
    refused = p.cli("restore", "latest", "--yes")
    assert refused.returncode == 2  # running: refused without --stop
    restored = p.script("restore_databases.sh", "latest", "sqlite")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert p.process is not None
    p.process.wait(30)  # stopped gracefully by the restore
    p.start()
    for order in acked_before_backup:
        r = httpx.get(f"{engine}/orders/{order['id']}", timeout=15)
        assert r.status_code == 200, f"acknowledged order {order['id']} lost"
    assert httpx.get(f"{engine}/orders/{later['id']}", timeout=15).status_code == 404
