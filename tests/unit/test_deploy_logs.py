"""deploy/: the units log to /var/log/trading-platform, and the shipped logrotate file is
valid for logrotate, rotates only that directory, and names copies as the platform does."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.unit.test_deploy_units import (
    ENV_EXAMPLE,
    SERVICES,
    SYSTEMD,
    env_assignments,
    parse_unit,
    unit_name,
)

from mcp_trading.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LOGROTATE = DEPLOY / "logrotate" / "trading-platform"
LOG_DIR = "/var/log/trading-platform"


def test_each_unit_logs_to_the_runbooks_directory() -> None:
    for service in SERVICES:
        s = parse_unit(SYSTEMD / unit_name(service))["Service"]
        assert (s["LogsDirectory"], s["LogsDirectoryMode"]) == ("trading-platform", "0750")
        assert s["Environment"] == f"MCP_TRADING_LOG_DIR={LOG_DIR}", unit_name(service)


def test_the_env_example_keeps_internal_rotation_unless_logrotate_is_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_assignments(ENV_EXAMPLE.read_text())
    assert "MCP_TRADING_LOG_ROTATION" not in env  # documented, commented out
    assert "# MCP_TRADING_LOG_ROTATION=external" in ENV_EXAMPLE.read_text()
    assert env["MCP_TRADING_LOG_DIR"] == LOG_DIR  # the CLI and the scripts find the logs
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert (settings.resolved_log_dir, settings.log_rotation) == (Path(LOG_DIR), "internal")


def test_the_logrotate_file_covers_only_the_platforms_directory() -> None:
    text = LOGROTATE.read_text()
    paths = re.findall(r"^(/\S+)\s*\{", text, flags=re.MULTILINE)
    assert paths == [f"{LOG_DIR}/*.log", f"{LOG_DIR}/*.out"]
    assert "dateformat .%Y%m%dT%H%M%S" in text  # the platform's copies' names (log_files.py)
    # every writer appends: copy-truncate needs no signal, and covers a child's inherited fd
    assert text.count("copytruncate") == 2


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate not installed")
def test_logrotate_accepts_the_file_and_rotates_as_the_platform_names_copies(
        tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "platform.log").write_text("one\n")
    (logs / "platform.out").write_text("out\n")
    writer = (logs / "platform.log").open("a")  # a service writing the file throughout
    # this host has no mcp-trading user and no units: root, and a postrotate that cannot fail
    conf = (LOGROTATE.read_text().replace(LOG_DIR, str(logs))
            .replace(" mcp-trading mcp-trading", " root root"))
    (tmp_path / "conf").write_text(conf)
    result = subprocess.run(["logrotate", "-f", "-s", str(tmp_path / "state"),
                             str(tmp_path / "conf")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in logs.iterdir())
    assert "platform.log" in names and "platform.out.1.gz" in names
    assert [n for n in names if re.fullmatch(r"platform\.log\.\d{8}T\d{6}", n)]
    assert (logs / "platform.out").read_text() == ""  # copytruncate
    writer.write("two\n")
    writer.close()
    assert (logs / "platform.log").read_text() == "two\n"  # it writes on, from the start
