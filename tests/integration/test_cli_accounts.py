"""`mcp-trading accounts …` with no platform running: the kernel, recovered here, writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.adapters.store import open_store
from mcp_trading.cli import app
from mcp_trading.cli.accounts import EXIT_EXISTS
from mcp_trading.config import Settings
from mcp_trading.domain.events import AccountOpened
from mcp_trading.kernel import codec

runner = CliRunner()


@pytest.fixture(autouse=True)
def _sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "MCP_TRADING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _accounts(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["accounts", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def _listed(data_dir: Path) -> dict[str, dict[str, object]]:
    code, out = _accounts(data_dir, "list", "--json")
    assert code == 0, out
    return {a["id"]: a for a in json.loads(out)}


def test_a_fresh_data_dir_lists_the_default_account(tmp_path: Path) -> None:
    assert set(_listed(tmp_path)) == {"paper"}


def test_create_offline_journals_the_account_and_it_survives(tmp_path: Path) -> None:
    code, out = _accounts(tmp_path, "create", "swing-1", "--cash", "250000.50", "--json")
    assert code == 0, out
    assert json.loads(out)["cash"] == "250000.50"
    listed = _listed(tmp_path)  # a fresh recovery from the journal: what a restart sees
    assert set(listed) == {"paper", "swing-1"}
    assert listed["swing-1"]["cash"] == "250000.50"
    store = open_store(Settings(data_dir=tmp_path).resolved_database_url)
    try:
        opened = [e for _, e in codec.events(store.read()) if isinstance(e, AccountOpened)]
    finally:
        store.close()
    assert [e.account_id for e in opened] == ["paper", "swing-1"]  # the kernel wrote both
    code, out = _accounts(tmp_path, "list")
    assert code == 0 and "swing-1" in out and "250000.50" in out


def test_a_duplicate_id_exits_3_saying_so_and_changes_nothing(tmp_path: Path) -> None:
    assert _accounts(tmp_path, "create", "swing-1", "--cash", "1000")[0] == 0
    code, out = _accounts(tmp_path, "create", "swing-1", "--cash", "5000")
    assert code == EXIT_EXISTS
    assert "already exists" in out and "swing-1" in out
    assert _listed(tmp_path)["swing-1"]["cash"] == "1000.00"
    code, out = _accounts(tmp_path, "create", "paper", "--cash", "5000")
    assert code == EXIT_EXISTS


@pytest.mark.parametrize("bad_id", ["", "_selftest", "has space", "a" * 33, "ü-acct", "*",
                                    "x/y"])
def test_a_bad_id_exits_2_naming_the_rule(tmp_path: Path, bad_id: str) -> None:
    code, out = _accounts(tmp_path, "create", bad_id, "--cash", "1000")
    assert code == 2
    assert "account_id" in out and "letters, digits" in out
    assert set(_listed(tmp_path)) == {"paper"}


@pytest.mark.parametrize(("cash", "says"), [
    ("0", "> 0"), ("-5", "> 0"), ("abc", "not a decimal"), ("NaN", "finite"), ("Infinity", "finite"),
    ("1e-999999999", "decimal places"), ("1E+999999999999999999", "maximum"),
    ("1" * 5000, "characters"), ("10.001", "decimal places"), ("1000000000001", "maximum"),
])
def test_bad_cash_exits_2_naming_the_bound(tmp_path: Path, cash: str, says: str) -> None:
    code, out = _accounts(tmp_path, "create", "acct-1", "--cash", cash)
    assert code == 2, out
    assert "cash" in out and says in out
    assert len(out) < 400  # the bad value is never echoed whole
    assert set(_listed(tmp_path)) == {"paper"}
