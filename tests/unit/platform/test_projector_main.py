"""The projector child gets the database URL as configured and the secrets file's path, never
the file's password on its command line."""

from __future__ import annotations

from pathlib import Path

from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, SecretsDoc, write_secrets
from mcp_trading.platform.projector_main import projector_child

URL = "postgresql://trading_owner@db.example:5432/trading"


def test_with_a_file_login_the_password_stays_off_the_command_line(tmp_path: Path) -> None:
    write_secrets(tmp_path / "secrets.json",
                  SecretsDoc(database=Login("mcp_trading_a", "file-password-123")))
    settings = Settings(data_dir=tmp_path, database_url=URL)
    assert "file-password-123" in settings.resolved_database_url
    child = projector_child(settings, settings.resolved_reports_url,
                            settings.resolved_database_url)
    command = " ".join(child._cmd)
    assert "file-password-123" not in command
    assert URL in command and "mcp_trading.platform.projector_main" in command
    assert child._env is not None
    assert child._env["MCP_TRADING_SECRETS_FILE"] == str((tmp_path / "secrets.json").absolute())


def test_without_a_file_login_the_child_is_the_adapters_own(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=URL)
    child = projector_child(settings, settings.resolved_reports_url,
                            settings.resolved_database_url)
    assert "mcp_trading.adapters.store.projector_process" in child._cmd
    assert child._env is None
