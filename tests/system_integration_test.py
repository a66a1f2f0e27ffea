#!/usr/bin/env python3
"""The system integration test (runbook: Full System Recovery, step 5), run against the
running platform:

    python tests/system_integration_test.py [--data-dir DIR] [--url SERVICE=URL ...] [--json]

A smoke test of every service in the registry that is safe while trading is halted: each
service's /health and /metrics, its reads, the dry runs (risk's pre-trade check, a
backtest-free strategies listing) and the trading engine's self-test, which trades on the
internal `_selftest` account only (when trading is halted it is refused, and that refusal is
the expected answer). It changes no user's orders, positions or cash: every account but the
internal ones is read before and after and must be unchanged, and trading stays as halted as
it was. Exit 0 when every step passed, 1 otherwise (each failed step named).

Not a pytest module (pyproject's `python_files = ["test_*.py"]`): a program with an exit code.
The services are found as `mcp-trading status --json` reports them (the platform's PID file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

Check = Callable[[httpx.Client, str], str]
HALTED = ("halted", "halted_new_orders")


def _get(client: httpx.Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}: {response.text[:200]}")
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


def _reads(*paths: str) -> Check:
    def check(client: httpx.Client, base: str) -> str:
        for path in paths:
            _get(client, base + path)
        return f"read {', '.join(paths)}"
    return check


def _risk_dry_run(client: httpx.Client, base: str) -> str:
    _get(client, base + "/limits")
    _get(client, base + "/exposures")
    body = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    response = client.post(base + "/check", json=body)
    if response.status_code != 200 or "would_accept" not in response.json():
        raise AssertionError(f"POST /check answered {response.status_code}: {response.text[:200]}")
    verdict = response.json()
    why = "" if verdict["would_accept"] else f" ({verdict.get('code')})"
    return f"limits, exposures, pre-trade dry run: would_accept={verdict['would_accept']}{why}"


def _engine_selftest(client: httpx.Client, base: str) -> str:
    _get(client, base + "/accounts")
    state = _get(client, base + "/health").get("trading_status")
    response = client.post(base + "/orders/test")
    report = response.json()
    if report.get("result") == "pass":
        return f"self-test passed on {report.get('account')} ({report.get('total_ms')} ms)"
    if state in HALTED:
        return f"self-test refused while trading is {state}, as it must be: {report.get('detail')}"
    raise AssertionError(f"self-test failed: {report.get('detail')}")


#: service -> what is checked beyond /health and /metrics (a service not listed: those two)
CHECKS: dict[str, Check] = {
    "market-data": _reads("/quotes", "/symbols", "/clock", "/history"),
    "trading-engine": _engine_selftest,
    "orders": _reads("/orders?limit=5"),
    "risk": _risk_dry_run,
    "portfolio": _reads("/portfolio/summary", "/portfolio/positions"),
    "providers": _reads("/providers"),
    "strategies": _reads("/strategies", "/backtests?limit=5"),
    "alerts": _reads("/alerts"),
}


def _services(data_dir: str | None) -> dict[str, str]:
    command = [sys.executable, "-m", "mcp_trading", "status", "--json"]
    if data_dir:
        command += ["--data-dir", data_dir]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    try:
        body = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"`mcp-trading status --json` gave no status: {done.stderr[-300:]}"
                         ) from None
    if not body.get("running"):
        raise SystemExit("the platform is not running: start it first (mcp-trading start "
                         "--detach); this test runs against the running platform")
    return {s["service"]: f"http://127.0.0.1:{s['port']}" for s in body["services"]}


def _step(results: list[dict[str, Any]], name: str, action: Callable[[], str]) -> None:
    started = time.perf_counter()
    try:
        detail, ok = action(), True
    except (AssertionError, httpx.HTTPError, ValueError, KeyError) as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    results.append({"step": name, "ok": ok, "detail": detail,
                    "ms": round((time.perf_counter() - started) * 1000, 1)})


def run(urls: dict[str, str]) -> list[dict[str, Any]]:
    headers = {}
    if os.environ.get("MCP_TRADING_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['MCP_TRADING_API_KEY']}"
    results: list[dict[str, Any]] = []
    with httpx.Client(headers=headers, timeout=30.0) as client:
        engine, orders = urls["trading-engine"], urls.get("orders", urls["trading-engine"])
        before_state = _get(client, engine + "/health").get("trading_status")
        books = _user_books(client, engine, orders)
        for service, base in urls.items():
            _step(results, f"{service}: health, metrics", lambda b=base: _health(client, b))
            check = CHECKS.get(service)
            if check is not None:
                _step(results, f"{service}: reads and dry runs", lambda c=check, b=base: c(client, b))
        _step(results, "no user's orders, positions or cash changed",
              lambda: _unchanged(books, _user_books(client, engine, orders)))
        _step(results, "trading stays as halted as it was",
              lambda: _still(before_state, _get(client, engine + "/health").get("trading_status")))
    return results


def _user_books(client: httpx.Client, engine: str, orders: str) -> dict[str, Any]:
    listed = _get(client, engine + "/accounts")
    rows = listed.get("accounts", []) if isinstance(listed, dict) else listed
    books = {}
    for row in rows:
        account = row.get("account_id") or row.get("id")
        if not account or account.startswith("_"):
            continue
        books[account] = {
            "cash": _get(client, f"{engine}/accounts/{account}").get("cash"),
            "positions": sorted((p["symbol"], p["qty"]) for p in _get(  # marks move; qty not
                client, f"{engine}/positions?account_id={account}")),
            "open_orders": sorted((o["id"], o["status"], o["filled_qty"]) for o in _get(
                client, f"{orders}/orders?status=open&account_id={account}&limit=500")["orders"]),
        }
    return books


def _health(client: httpx.Client, base: str) -> str:
    health = _get(client, base + "/health")
    metrics = _get(client, base + "/metrics")
    if not isinstance(metrics, str) or "# TYPE" not in metrics:
        raise AssertionError(f"{base}/metrics is not Prometheus text")
    return f"status {health.get('status')}"


def _unchanged(before: dict[str, Any], after: dict[str, Any]) -> str:
    if before != after:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        raise AssertionError(f"accounts changed during the test: {', '.join(changed)}")
    return f"{len(before)} user accounts unchanged"


def _still(before: str | None, after: str | None) -> str:
    if before in HALTED and after != before:
        raise AssertionError(f"trading was {before} before the test, {after} after")
    return f"trading_status {after}" + (" (an operator resumes it)" if after in HALTED else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="the platform's data directory (default ./var)")
    parser.add_argument("--url", action="append", default=[], metavar="SERVICE=URL",
                        help="where a service is, instead of what `status` reports")
    parser.add_argument("--json", action="store_true", help="one JSON object, for machines")
    args = parser.parse_args()
    urls = _services(args.data_dir)
    for item in args.url:
        name, _, url = item.partition("=")
        urls[name] = url.rstrip("/")
    results = run(urls)
    failed = [r["step"] for r in results if not r["ok"]]
    if args.json:
        print(json.dumps({"ok": not failed, "failed": failed, "steps": results}))
    else:
        for r in results:
            print(f"{'✅' if r['ok'] else '❌'} {r['step']}: {r['detail']}")
        print("system integration test " + ("passed" if not failed else
                                             f"FAILED: {', '.join(failed)}"))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
