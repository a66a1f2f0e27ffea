"""Accounts end to end: opened through a running platform, kept over a restart, keyed."""

from __future__ import annotations

import json

from tests.e2e.harness import RunningPlatform


def test_accounts_create_on_a_running_platform_survives_a_restart(
        platform_factory) -> None:  # type: ignore[no-untyped-def]
    p: RunningPlatform = platform_factory()
    created = p.cli("accounts", "create", "swing-1", "--cash", "250000", "--json")
    assert created.returncode == 0, created.stdout + created.stderr
    assert json.loads(created.stdout)["id"] == "swing-1"
    te = p.client("trading-engine")
    assert te.get("/accounts/swing-1").json()["cash"] == "250000.00"
    again = p.cli("accounts", "create", "swing-1", "--cash", "1")
    assert again.returncode == 3 and "already exists" in again.stderr
    key = p.cli("keys", "create", "--role", "trader", "--account", "swing-1", "--json")
    assert key.returncode == 0, key.stderr
    plaintext = json.loads(key.stdout)["key"]
    refused = p.cli("keys", "create", "--role", "trader", "--account", "no-such-account")
    assert refused.returncode == 1 and "no account 'no-such-account'" in refused.stderr
    p.stop()
    p.start()
    listed = p.cli("accounts", "list", "--json")
    assert {a["id"] for a in json.loads(listed.stdout)} == {"paper", "swing-1"}
    mine = p.client("trading-engine", plaintext)
    assert [a["id"] for a in mine.get("/accounts").json()["accounts"]] == ["swing-1"]
    placed = mine.post("/orders", json={"symbol": "SPY", "qty": 1, "side": "buy",
                                        "type": "limit", "limit_price": "1.00"})
    assert placed.status_code == 200, placed.text
    assert placed.json()["account_id"] == "swing-1"
    assert mine.get("/account", params={"account_id": "paper"}).status_code == 403


def test_accounts_create_needs_an_operator_in_production(platform_factory) -> None:  # type: ignore[no-untyped-def]
    secret = "Zq8-" + "".join(chr(65 + (i * 7) % 26) + str(i % 10) for i in range(30))
    p: RunningPlatform = platform_factory(start=False, MCP_TRADING_PROFILE="production",
                                          JWT_SECRET=secret)
    trader = json.loads(p.cli("keys", "create", "--role", "trader", "--account", "paper",
                              "--json", check=True).stdout)["key"]
    operator = json.loads(p.cli("keys", "create", "--role", "operator", "--all-accounts",
                                "--json", check=True).stdout)["key"]
    p.start()
    anonymous = p.cli("accounts", "create", "desk-2", "--cash", "1000")
    assert anonymous.returncode == 1 and "401" in anonymous.stderr
    p.env["MCP_TRADING_API_KEY"] = trader
    assert p.cli("accounts", "create", "desk-2", "--cash", "1000").returncode == 1
    p.env["MCP_TRADING_API_KEY"] = operator
    done = p.cli("accounts", "create", "desk-2", "--cash", "1000")
    assert done.returncode == 0, done.stderr
