"""`mcp-trading keys …`, driven as an operator would (on a SQLite file in a temp data dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mcp_trading.cli.keys import keys_app

runner = CliRunner()
app = typer.Typer()
app.add_typer(keys_app, name="keys")  # as mcp_trading.cli mounts it


@pytest.fixture(autouse=True)
def _sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "MCP_TRADING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _keys(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["keys", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_create_shows_the_key_once_and_list_never(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "trader", "--account", "paper", "--name", "bot",
                      "--json")
    assert code == 0, out
    created = json.loads(out)
    assert set(created) == {"id", "key"}
    assert created["key"].startswith(f"mcpt_{created['id']}_")

    code, out = _keys(tmp_path, "list", "--json")
    assert code == 0, out
    assert created["key"] not in out and created["key"].split("_", 2)[2] not in out
    [listed] = json.loads(out)
    assert listed["id"] == created["id"]
    assert (listed["role"], listed["account_id"], listed["name"], listed["active"]) == (
        "trader", "paper", "bot", True)

    code, out = _keys(tmp_path, "list")
    assert code == 0 and created["id"] in out and "mcpt_" not in out


def test_create_without_json_prints_the_key_with_a_warning(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "viewer", "--account", "paper")
    assert code == 0, out
    assert out.count("mcpt_") == 1 and "only time" in out


def test_revoke_marks_the_key_revoked_and_is_idempotent(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "operator", "--all-accounts", "--json")
    key_id = json.loads(out)["id"]

    code, out = _keys(tmp_path, "revoke", key_id)
    assert code == 0 and f"revoked key {key_id}" in out
    code, out = _keys(tmp_path, "revoke", key_id)
    assert code == 0 and "already revoked" in out
    code, out = _keys(tmp_path, "list", "--json")
    assert json.loads(out)[0]["active"] is False


def test_revoking_an_unknown_id_fails_naming_it(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "revoke", "nosuchkey123")
    assert code == 1 and "nosuchkey123" in out


def test_a_bad_role_exits_2_listing_the_roles(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "superuser")
    assert code == 2
    assert all(role in out for role in ("viewer", "trader", "operator", "admin"))


def test_a_key_for_an_account_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "trader", "--account", "no-such-account")
    assert code == 1
    assert "no account 'no-such-account'" in out and "paper" in out  # says what exists
    assert "accounts create" in out  # and how to fix it
    assert json.loads(_keys(tmp_path, "list", "--json")[1]) == []  # nothing was created


@pytest.mark.parametrize("role", ["viewer", "trader", "operator", "admin"])
def test_a_key_without_account_or_all_accounts_is_refused_saying_which(tmp_path: Path,
                                                                       role: str) -> None:
    code, out = _keys(tmp_path, "create", "--role", role)
    assert code == 2
    assert "--account" in out and "--all-accounts" in out
    assert json.loads(_keys(tmp_path, "list", "--json")[1]) == []


def test_account_and_all_accounts_together_are_refused(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "trader", "--account", "paper",
                      "--all-accounts")
    assert code == 2 and "not both" in out


def test_all_accounts_is_said_explicitly_and_listed(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "trader", "--all-accounts", "--json")
    assert code == 0, out
    [listed] = json.loads(_keys(tmp_path, "list", "--json")[1])
    assert (listed["account_id"], listed["all_accounts"], listed["legacy"]) == (None, True, False)


def test_a_key_may_name_an_account_opened_with_accounts_create(tmp_path: Path) -> None:
    from mcp_trading.cli import app as full_app

    opened = runner.invoke(full_app, ["accounts", "create", "swing-1", "--cash", "250000",
                                      "--data-dir", str(tmp_path)])
    assert opened.exit_code == 0, opened.output
    code, out = _keys(tmp_path, "create", "--role", "trader", "--account", "swing-1", "--json")
    assert code == 0, out


def test_a_key_cannot_name_an_internal_account(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "create", "--role", "trader", "--account", "_selftest")
    assert code == 1 and "no account" in out


def _create(data_dir: Path, role: str) -> str:
    scope = ["--account", "paper"] if role in ("viewer", "trader") else ["--all-accounts"]
    code, out = _keys(data_dir, "create", "--role", role, *scope, "--json")
    assert code == 0, out
    key: str = json.loads(out)["key"]
    return key


def _verifies(data_dir: Path, key: str) -> bool:
    from mcp_trading.adapters.store.engine import create_store_engine
    from mcp_trading.config import Settings
    from mcp_trading.security.keys import KeyStore

    store = KeyStore(create_store_engine(Settings(data_dir=data_dir).resolved_database_url))
    try:
        return store.verify(key) is not None
    finally:
        store.close()


def test_revoke_all_revokes_every_active_key_and_says_how_many(tmp_path: Path) -> None:
    keys = [_create(tmp_path, role) for role in ("viewer", "trader", "operator", "admin")]
    code, out = _keys(tmp_path, "revoke", "--all", "--yes", "--json")
    assert code == 0, out
    answer = json.loads(out)
    assert answer["count"] == 4 and len(answer["revoked"]) == 4
    code, out = _keys(tmp_path, "list", "--json")
    assert [k["active"] for k in json.loads(out)] == [False] * 4
    assert not any(_verifies(tmp_path, key) for key in keys)
    code, out = _keys(tmp_path, "revoke", "--all", "--yes")  # nothing left: still exit 0
    assert code == 0 and "revoked 0 active keys" in out, out


def test_revoke_all_of_a_role_leaves_the_other_roles(tmp_path: Path) -> None:
    trader, operator = _create(tmp_path, "trader"), _create(tmp_path, "operator")
    code, out = _keys(tmp_path, "revoke", "--all", "--role", "trader", "--yes")
    assert code == 0 and "revoked 1 active trader keys" in out, out
    assert not _verifies(tmp_path, trader) and _verifies(tmp_path, operator)


def test_revoke_all_asks_first_and_a_no_revokes_nothing(tmp_path: Path) -> None:
    key = _create(tmp_path, "admin")
    result = runner.invoke(app, ["keys", "revoke", "--all", "--data-dir", str(tmp_path)],
                           input="n\n")
    assert result.exit_code == 1 and "revoke all 1 active keys?" in result.output
    assert "nothing revoked" in result.output and _verifies(tmp_path, key)
    result = runner.invoke(app, ["keys", "revoke", "--all", "--data-dir", str(tmp_path)],
                           input="y\n")
    assert result.exit_code == 0 and "revoked 1 active keys" in result.output
    assert "keys create" in result.output and not _verifies(tmp_path, key)


@pytest.mark.parametrize("args", [["revoke"], ["revoke", "someid", "--all"],
                                  ["revoke", "someid", "--role", "admin"],
                                  ["revoke", "--all", "--role", "root", "--yes"]])
def test_revoke_needs_an_id_or_all_and_role_only_with_all(tmp_path: Path, args: list[str]) -> None:
    code, out = _keys(tmp_path, *args)
    assert code == 2, out
    assert "--all" in out or "role" in out
