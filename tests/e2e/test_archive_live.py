"""Archival against the running platform (as the runbook's cron job runs it), then a restart:
reads of archived orders still answer, verify passes, and the restarted platform has the
same books."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from tests.e2e.harness import RunningPlatform
from tests.integration.dataops.trading_days import trade_days

pytestmark = pytest.mark.slow


def _get(p: RunningPlatform, service: str, path: str) -> httpx.Response:
    return httpx.get(p.url(service, path), timeout=15)  # fresh: the platform restarts


def _books(p: RunningPlatform) -> dict[str, object]:
    body = _get(p, "trading-engine", "/accounts/paper").json()
    positions = _get(p, "trading-engine", "/positions?account_id=paper").json()
    return {"cash": body["cash"], "positions": sorted((x["symbol"], x["qty"]) for x in positions)}


def test_archive_while_running_then_restart_keeps_the_books(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(start=False)
    trade_days(p.data_dir, days=6)
    p.start()
    try:
        before = _books(p)
        listed = _get(p, "orders", "/orders?status=all&limit=500").json()
        oldest = min(listed["orders"], key=lambda o: o["created_at"])
        done = p.cli("archive", "--before", "2024-01-05", "--json", check=True)
        report = json.loads(done.stdout)
        assert report["rows"]["orders"] == 60 and report["journal"]["segments"]
        found = _get(p, "trading-engine", f"/orders/{oldest['id']}")
        assert found.status_code == 200 and found.json().get("archived") is True
        page = _get(p, "orders", "/orders?status=all&limit=500").json()
        assert page["archived"]["before"].startswith("2024-01-05")
        assert len(page["orders"]) == len(listed["orders"]) - 60
        assert p.cli("verify", "--json").returncode == 0
        assert _books(p) == before
    finally:
        p.stop()
    p.start()
    try:
        assert _books(p) == before
        assert _get(p, "trading-engine", f"/orders/{oldest['id']}").json()["archived"]
    finally:
        p.stop()
    verified = p.cli("verify", "--json")
    assert verified.returncode == 0, verified.stdout
