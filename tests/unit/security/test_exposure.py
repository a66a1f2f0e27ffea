"""The production profile refuses a secrets file its group or other users may read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.security.authenticator import build_authenticator
from mcp_trading.security.exposure import ExposedFileError, check_private_file
from mcp_trading.security.rotation import rotate_jwt

STRONG = "exposure-test-secret-" + "Hk3Lm9Pq2Rs7Tv4Wx8Yz1Bc6"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_production_refuses_a_file_others_may_use(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{}")
    os.chmod(path, mode)
    with pytest.raises(ExposedFileError) as refused:
        check_private_file("production", path, "the secrets file", "MCP_TRADING_SECRETS_FILE")
    message = str(refused.value)
    assert f"{mode:04o}" in message and f"chmod 600 {path}" in message
    assert "MCP_TRADING_SECRETS_FILE" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_the_owners_own_file_or_none_passes(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{}")
    os.chmod(path, mode)
    check_private_file("production", path, "the secrets file", "X")
    check_private_file("production", tmp_path / "absent.json", "the secrets file", "X")


def test_dev_does_not_check(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    check_private_file("dev", path, "the secrets file", "X")


def test_a_production_server_will_not_build_over_a_readable_secrets_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, profile="production", jwt_secret=STRONG)
    rotate_jwt(settings, grace_s=0)  # the platform writes it 0600: accepted
    build_authenticator(settings).close()
    os.chmod(settings.resolved_secrets_file, 0o644)
    with pytest.raises(ExposedFileError, match="0644"):
        build_authenticator(settings)
