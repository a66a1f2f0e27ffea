"""`mcp-trading logs` over a real log directory, and the runbook's log scripts
(scripts/rotate_logs.sh, scripts/log_management.sh) run against a temporary data directory."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _line(ts: str, event: str, service: str = "platform") -> str:
    return f"{ts} [info     ] {event:<30} k=v [mcp_trading.lifecycle] service={service}"


def _recent(minutes_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - minutes_ago * 60))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    old = _line(_recent(120), "order accepted order_id=o-1") + "\n"
    (logs / "platform.log.20270101T000000.gz").write_bytes(gzip.compress(old.encode()))
    (logs / "platform.log").write_text(
        _line(_recent(30), "order filled order_id=o-1") + "\n"
        + _line(_recent(5), "order rejected code=RISK_BUYING_POWER") + "\n")
    (logs / "orders.log").write_text(json.dumps(
        {"ts": _recent(1), "level": "error", "event": "orders failed", "service": "orders"})
        + "\n")
    return tmp_path


def _logs(data_dir: Path, *args: str) -> tuple[int, list[str], str]:
    result = runner.invoke(app, ["logs", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def test_logs_reads_rotated_gz_files_and_filters_by_since_grep_and_service(
        data_dir: Path) -> None:
    code, lines, _ = _logs(data_dir)
    assert code == 0
    assert ["accepted" in lines[0], "filled" in lines[1], "rejected" in lines[2],
            "orders failed" in lines[3]] == [True] * 4  # in time order, .gz included
    assert len(_logs(data_dir, "--since", "10m")[1]) == 2
    code, lines, _ = _logs(data_dir, "--grep", r"order (filled|rejected)")
    assert code == 0 and len(lines) == 2
    code, lines, _ = _logs(data_dir, "--service", "orders", "--json")
    assert code == 0 and [json.loads(line)["event"] for line in lines] == ["orders failed"]


def test_logs_json_wraps_console_lines_as_objects(data_dir: Path) -> None:
    code, lines, _ = _logs(data_dir, "--json", "--grep", "rejected")
    assert code == 0
    [record] = [json.loads(line) for line in lines]
    assert record["service"] == "platform" and record["ts"].endswith("Z")
    assert "RISK_BUYING_POWER" in record["line"]


def test_bad_since_and_bad_regex_are_clear_errors(data_dir: Path) -> None:
    code, _, err = _logs(data_dir, "--grep", "order(")
    assert code == 2 and "not a valid regular expression" in err
    code, _, err = _logs(data_dir, "--since", "ten minutes")
    assert code == 2 and "10m" in err and "Traceback" not in err


def test_logs_path_prints_the_log_directory(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    assert _logs(data_dir, "--path")[1] == [str(data_dir / "logs")]
    monkeypatch.setenv("MCP_TRADING_LOG_DIR", str(tmp_path / "elsewhere"))
    assert _logs(data_dir, "--path")[1] == [str(tmp_path / "elsewhere")]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    env.update(PYTHONPATH=str(ROOT / "src"), MCP_TRADING_DATA_DIR=str(data_dir))
    return env


def test_follow_prints_new_lines_across_a_rotation_and_ctrl_c_is_clean(data_dir: Path) -> None:
    log = data_dir / "logs" / "platform.log"
    proc = subprocess.Popen([sys.executable, "-m", "mcp_trading", "logs", "--follow",
                             "--grep", "live|RISK_BUYING_POWER"], env=_env(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        # the history comes first (the follower is watching by then): ready
        assert "RISK_BUYING_POWER" in proc.stdout.readline()
        with log.open("a") as fh:
            fh.write(_line(_recent(0), "live one") + "\n")
        time.sleep(1)
        log.rename(log.with_name("platform.log.20270101T010000"))
        log.write_text(_line(_recent(0), "live two") + "\n")
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert len(lines) == 2 and "live one" in lines[0] and "live two" in lines[1]


def _script(name: str, data_dir: Path, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / name), *args], env=env or _env(data_dir),
                          capture_output=True, text=True, timeout=180, check=False)


def test_log_management_rotates_compresses_prunes_and_backs_up(data_dir: Path) -> None:
    logs = data_dir / "logs"
    stale = logs / "platform.log.20200101T000000"  # rotated, uncompressed, 40 days old
    stale.write_text("stale\n")
    ancient = logs / "platform.log.20190101T000000.gz"  # an archive 100 days old
    ancient.write_bytes(gzip.compress(b"ancient\n"))
    for path, days in ((stale, 40), (ancient, 100)):
        os.utime(path, (time.time() - days * 86_400,) * 2)
    result = _script("log_management.sh", data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (logs / "platform.log").read_text() == ""  # rotated (copy, truncate)
    fresh = [p for p in logs.glob("platform.log.2*.gz") if "2019" not in p.name
             and "2020" not in p.name and "20270101" not in p.name]
    assert len(fresh) == 1 and b"RISK_BUYING_POWER" in gzip.decompress(fresh[0].read_bytes())
    assert not stale.exists() and stale.with_name(stale.name + ".gz").exists()  # compressed
    assert not ancient.exists()  # deleted
    [backup] = (data_dir / "backups" / "logs").glob("logs_*.tar.gz")
    listing = subprocess.run(["tar", "-tzf", str(backup)], capture_output=True, text=True,
                             check=True).stdout
    assert "./orders.log" in listing
    code, lines, _ = _logs(data_dir, "--grep", "RISK_BUYING_POWER")  # still readable
    assert code == 0 and len(lines) == 1


def test_the_scripts_refuse_a_directory_that_is_not_the_platforms_own(data_dir: Path) -> None:
    env = {**_env(data_dir), "MCP_TRADING_LOG_DIR": "/var/log"}
    for name in ("rotate_logs.sh", "log_management.sh"):
        result = _script(name, data_dir, env=env)
        assert result.returncode != 0
        assert "not the platform's own log directory" in result.stdout + result.stderr


def test_the_scripts_fail_when_the_log_directory_is_missing(tmp_path: Path) -> None:
    result = _script("rotate_logs.sh", tmp_path / "nothing-here")
    assert result.returncode != 0 and "does not exist" in result.stdout + result.stderr
