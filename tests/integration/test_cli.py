"""The `mcp-trading` command line, driven as an operator would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app

runner = CliRunner()


def test_journal_info_on_a_fresh_data_dir_reports_an_empty_journal(tmp_path: Path) -> None:
    upgraded = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert upgraded.exit_code == 0, upgraded.output
    result = runner.invoke(app, ["journal", "info", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["last_seq"] == 0 and info["orders"] == 0
    assert info["platform_state"] == "active"
    assert (tmp_path / "trading.db").exists()


def test_journal_project_reports_the_checkpoint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["journal", "project", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "checkpoint at seq 0" in result.output


def test_settings_never_print_a_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://trader:s3cret-pw@db.example:5432/trading")
    result = runner.invoke(app, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert json.loads(result.output)["database_url"].startswith("postgresql://trader:***@")


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and "mcp-trading 0.1.0" in result.output
