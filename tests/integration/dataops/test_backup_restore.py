"""Backups and restores with real processes on real SQLite files.

A kernel trades in a subprocess (tests/integration/crash_driver.py, one ACK line per order
only once it is durable) while `mcp-trading backup` runs in another; the backup must verify,
and a restore of it must hold every order acknowledged before the backup began. A backup
killed with SIGKILL leaves nothing that lists or restores; a flipped byte or a missing file
makes restore refuse with the data untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from mcp_trading.adapters.store import Projector, open_store, upgrade
from mcp_trading.dataops import checks
from mcp_trading.dataops.retention import list_backups

DRIVER = Path(__file__).parents[1] / "crash_driver.py"
CLI = [sys.executable, "-m", "mcp_trading"]


def _cli(data: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


class Trader:
    """crash_driver.py on <data>/trading.db; collects the ACKed order ids as they come."""

    def __init__(self, data: Path, seed: int = 11) -> None:
        self.url = f"sqlite:///{data / 'trading.db'}"
        upgrade(self.url)
        self.proc = subprocess.Popen([sys.executable, str(DRIVER), self.url, "--seed",
                                      str(seed)], stdout=subprocess.PIPE, text=True)
        self.acked: list[str] = []
        self.ready = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        assert self.ready.wait(30), "the trading kernel did not start"

    def _read(self, out: IO[str] | None) -> None:
        assert out is not None
        for line in out:
            if line.startswith("READY"):
                self.ready.set()
            elif line.startswith("ACK"):
                with self._lock:
                    self.acked.append(line.split()[1])

    def acked_now(self) -> list[str]:
        with self._lock:
            return list(self.acked)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def _project(data: Path) -> None:
    """The reports database, as the platform's projector keeps it."""
    reports = f"sqlite:///{data / 'trading-reports.db'}"
    upgrade(reports)
    source = open_store(f"sqlite:///{data / 'trading.db'}")
    projector = Projector(reports, source=source)
    try:
        projector.catch_up()
    finally:
        projector.close()
        source.close()


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.glob("trading*.db*"))}


@pytest.fixture
def traded(tmp_path: Path) -> Path:
    """A data directory with a few hundred journaled orders and their projection."""
    data = tmp_path / "var"
    data.mkdir()
    trader = Trader(data)
    time.sleep(1.5)
    trader.stop()
    _project(data)
    return data


def test_backup_under_load_restores_every_acknowledged_order(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    trader = Trader(data)
    try:
        time.sleep(1.0)
        _project(data)
        acked_before = trader.acked_now()
        result = _cli(data, "backup", "--archive", "--json")  # the kernel trades meanwhile
        acked_during = len(trader.acked_now()) - len(acked_before)
    finally:
        trader.stop()
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["status"] == "verified"
    assert {c["name"] for c in manifest["verification"]["checks"] if c["ok"]} >= {
        "checksums", "test-restore", "journal-contiguity", "projection-equals-replay",
        "state-equals-snapshot"}
    assert acked_during > 0, "the kernel was not trading during the backup"
    assert checks.journal_last_seq(f"sqlite:///{data / 'trading.db'}") > manifest[
        "journal_last_seq"]  # the live journal went on past the backup

    fresh = tmp_path / "restored"
    fresh.mkdir()
    archive = Path(manifest["path"])
    assert archive.is_file() and archive.name.endswith(".tar")  # one file, restorable as is
    restored = _cli(fresh, "restore", str(archive), "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)
    assert report["ok"] and report["journal_last_seq"] == manifest["journal_last_seq"]
    state = checks.replay_state(f"sqlite:///{fresh / 'trading.db'}")
    missing = [oid for oid in acked_before if oid not in state.orders]
    assert not missing, f"{len(missing)} acknowledged orders lost, e.g. {missing[:3]}"
    assert state.seq == manifest["journal_last_seq"]


def test_restore_swaps_in_and_keeps_a_rollback_copy(traded: Path) -> None:
    backed = _cli(traded, "backup", "--json")
    assert backed.returncode == 0, backed.stderr
    seq = json.loads(backed.stdout)["journal_last_seq"]
    before = _digest(traded)
    trader = Trader(traded, seed=12)  # the data moves on after the backup
    time.sleep(0.8)
    trader.stop()
    assert checks.journal_last_seq(f"sqlite:///{traded / 'trading.db'}") > seq
    moved_on = _digest(traded)

    restored = _cli(traded, "restore", "latest", "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)
    rollback = Path(report["rollback"]["directory"])
    assert _digest(rollback)["trading.db"] == moved_on["trading.db"]  # the replaced data
    assert checks.journal_last_seq(f"sqlite:///{traded / 'trading.db'}") == seq
    assert before  # the journal file existed before
    info = _cli(traded, "journal", "info", "--json")  # a restart recovers the backup's state
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["last_seq"] == seq


def _backup_dir(data: Path) -> Path:
    [entry] = [e for e in list_backups(data / "backups") if e["status"] == "verified"]
    return Path(entry["path"])


@pytest.mark.parametrize("damage", ["flip", "truncate", "missing", "manifest"])
def test_a_damaged_backup_is_refused_and_nothing_is_touched(traded: Path, damage: str) -> None:
    assert _cli(traded, "backup").returncode == 0
    backup = _backup_dir(traded)
    journal_copy = backup / "files" / "trading.db.zst"
    if damage == "flip":
        raw = bytearray(journal_copy.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        journal_copy.write_bytes(bytes(raw))
    elif damage == "truncate":
        journal_copy.write_bytes(journal_copy.read_bytes()[:-10])
    elif damage == "missing":
        journal_copy.unlink()
    else:
        (backup / "manifest.json").unlink()
    before = _digest(traded)
    result = _cli(traded, "restore", str(backup), "--yes")
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert "refused" in said
    if damage != "manifest":
        assert "files/trading.db.zst" in said
    assert _digest(traded) == before
    assert not list(traded.glob("rollback-*")) and not list(traded.glob(".restore-*"))


def test_restore_refuses_while_the_platform_runs(traded: Path) -> None:
    assert _cli(traded, "backup").returncode == 0
    me = psutil.Process()
    (traded / "mcp-trading.pid").write_text(json.dumps(
        {"pid": me.pid, "create_time": me.create_time()}))
    before = _digest(traded)
    result = _cli(traded, "restore", "latest", "--yes")
    assert result.returncode == 2
    assert "running" in result.stderr and "--stop" in " ".join(result.stderr.split())
    assert _digest(traded) == before


def _partial_appears(root: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if root.is_dir() and any(p.name.endswith(".partial") for p in root.iterdir()):
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_kill_9_during_a_backup_leaves_nothing_that_looks_valid(traded: Path,
                                                                delay: float) -> None:
    history = traded / "history.db"  # bulk, so the backup takes a while
    import sqlite3

    with sqlite3.connect(history) as conn:
        conn.execute("CREATE TABLE filler (b BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", ((os.urandom(1 << 16),)
                                                           for _ in range(600)))
    root = traded / "backups"
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(traded)}
    proc = subprocess.Popen([*CLI, "backup"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    assert _partial_appears(root)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert list_backups(root) == []  # a .partial is never listed
    refused = _cli(traded, "restore", "latest", "--yes")
    assert refused.returncode == 2 and "no verified backup" in " ".join(refused.stderr.split())
    again = _cli(traded, "backup", "--json")  # the next backup clears the leftover
    assert again.returncode == 0, again.stderr
    assert [p.name for p in root.iterdir() if p.name.endswith(".partial")] == []
    assert [e["status"] for e in list_backups(root)] == ["verified"]


def test_a_backup_that_fails_verification_is_marked_failed(traded: Path,
                                                           monkeypatch: Any) -> None:
    from mcp_trading.config import Settings
    from mcp_trading.dataops import verify
    from mcp_trading.dataops.backup import run_backup

    real = verify.stores_checks

    def lying_live_state(urls: dict[str, str], expected: Any) -> Any:
        expected = json.loads(json.dumps(expected))  # a live state that disagrees
        expected["accounts"]["paper"]["cash"] = "1"
        return real(urls, expected)

    monkeypatch.setattr(verify, "stores_checks", lying_live_state)
    manifest = run_backup(Settings(data_dir=traded))
    assert manifest["status"] == "failed"
    assert [e["status"] for e in list_backups(traded / "backups")] == ["failed"]
    result = _cli(traded, "restore", manifest["path"], "--yes")
    assert result.returncode == 1 and "not 'verified'" in " ".join(result.stderr.split())
