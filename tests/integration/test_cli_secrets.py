"""`mcp-trading secrets rotate`, `keys rotate` and `scripts/reset_passwords.sh`, driven as an
operator would; no secret is ever in their output, the secrets file stays 0600 and beats the
environment."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, SecretsDoc, read_secrets, write_secrets

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "MCP_TRADING_DATABASE_URL", "REDIS_URL", "MCP_TRADING_REDIS_URL",
                 "MCP_TRADING_SECRETS_FILE", "JWT_SECRET", "MCP_TRADING_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _all_secrets(path: Path) -> list[str]:
    doc = read_secrets(path)
    found = [k.secret for k in doc.jwt_keys]
    found += [login.password for login in (doc.database, doc.redis) if login is not None]
    found += [s for s in (doc.smtp_password, doc.alphavantage_api_key) if s]
    return found


def test_jwt_rotation_reports_the_kid_never_the_secret(tmp_path: Path) -> None:
    code, out = _cli("secrets", "rotate", "--jwt", "--grace", "30m", "--json",
                     "--data-dir", str(tmp_path))
    assert code == 0, out
    report = json.loads(out)
    [jwt] = report["rotations"]
    assert jwt["secret"] == "jwt" and jwt["kid"].startswith("k-") and jwt["grace_s"] == 1800
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    code, human = _cli("secrets", "rotate", "--all", "--data-dir", str(tmp_path))
    assert code == 0 and "signing key" in human
    secrets = _all_secrets(path)
    assert len(secrets) == 3  # the new key, and both earlier ones within their grace
    for secret in secrets:
        assert secret not in out and secret not in human


def test_nothing_chosen_or_a_bad_grace_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    code, out = _cli("secrets", "rotate", "--data-dir", str(tmp_path))
    assert code == 2 and "say what to rotate" in out
    code, out = _cli("secrets", "rotate", "--jwt", "--grace", "soon", "--data-dir", str(tmp_path))
    assert code == 2 and "not a duration" in out
    assert not (tmp_path / "secrets.json").exists()


def test_database_or_redis_in_embedded_mode_fails_naming_why(tmp_path: Path) -> None:
    code, out = _cli("secrets", "rotate", "--jwt", "--database", "--redis", "--json",
                     "--data-dir", str(tmp_path))
    assert code == 1
    by_name = {r["secret"]: r for r in json.loads(out)["rotations"]}
    assert by_name["jwt"]["rotated"] is True  # the others still ran
    assert "not PostgreSQL" in by_name["database"]["error"]
    assert "REDIS_URL" in by_name["redis"]["error"]


def test_the_secrets_file_wins_over_the_environment(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_secrets(tmp_path / "secrets.json", SecretsDoc(
        smtp_password="smtp-from-file-123", alphavantage_api_key="av-from-file-456",
        database=Login("mcp_trading_b", "db-from-file-789")))
    monkeypatch.setenv("MCP_TRADING_SMTP_PASSWORD", "smtp-from-env")
    monkeypatch.setenv("MCP_TRADING_ALPHAVANTAGE_API_KEY", "av-from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql://trading_user:env-pw@db.example/trading")
    settings = Settings(data_dir=tmp_path)
    assert settings.smtp_password is not None and settings.alphavantage_api_key is not None
    assert settings.smtp_password.get_secret_value() == "smtp-from-file-123"
    assert settings.alphavantage_api_key.get_secret_value() == "av-from-file-456"
    assert settings.resolved_database_url == (
        "postgresql://mcp_trading_b:db-from-file-789@db.example/trading")
    code, out = _cli("settings", "--json", "--data-dir", str(tmp_path))
    assert code == 0, out
    for secret in ("smtp-from-file-123", "av-from-file-456", "db-from-file-789", "env-pw"):
        assert secret not in out


def test_keys_rotate_shows_the_new_key_once_and_both_work_in_the_grace(tmp_path: Path) -> None:
    from mcp_trading.adapters.store.engine import create_store_engine
    from mcp_trading.security.keys import KeyStore

    code, out = _cli("keys", "create", "--role", "trader", "--account", "paper", "--json",
                     "--data-dir", str(tmp_path))
    created = json.loads(out)
    code, out = _cli("keys", "rotate", created["id"], "--grace", "1h", "--json",
                     "--data-dir", str(tmp_path))
    assert code == 0, out
    rotated = json.loads(out)
    assert rotated["id"] == created["id"] and rotated["key"] != created["key"]
    assert rotated["previous_valid_until"].endswith("Z")
    engine = create_store_engine(f"sqlite:///{tmp_path / 'trading.db'}")
    keys = KeyStore(engine)
    assert keys.verify(created["key"]) is not None and keys.verify(rotated["key"]) is not None
    engine.dispose()
    code, out = _cli("keys", "list", "--json", "--data-dir", str(tmp_path))
    assert rotated["key"].split("_", 2)[2] not in out
    code, out = _cli("keys", "rotate", "NoSuchKey123", "--data-dir", str(tmp_path))
    assert code == 1 and "keys list" in out
    _cli("keys", "revoke", created["id"], "--data-dir", str(tmp_path))
    code, out = _cli("keys", "rotate", created["id"], "--data-dir", str(tmp_path))
    assert code == 1 and "revoked" in out


def test_reset_passwords_script_rotates_everything_configured(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MCP_TRADING_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env["MCP_TRADING_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([str(ROOT / "scripts" / "reset_passwords.sh"), "--json"], env=env,
                          capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [r["secret"] for r in report["rotations"]] == ["jwt"]  # embedded: nothing else
    assert "Password reset completed" in done.stderr
    for secret in _all_secrets(tmp_path / "secrets.json"):
        assert secret not in done.stdout + done.stderr
    env["MCP_TRADING_REDIS_URL"] = "redis://127.0.0.1:1/0"  # unreachable: must fail loudly
    failed = subprocess.run([str(ROOT / "scripts" / "reset_passwords.sh"), "--redis"], env=env,
                            capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert failed.returncode == 1 and "Password reset failed" in failed.stderr
