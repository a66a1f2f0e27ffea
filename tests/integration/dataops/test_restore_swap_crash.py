"""A restore's swap is all or nothing across the SQLite store's files (trading.db and its
-wal/-shm, trading-reports.db, the archived journal directory): `kill -9` of the real CLI at
every point of the swap — before its plan is written and after each rename — and the next
command that opens the stores finds the old set or the new set, byte for byte, never a mix.
An error during the swap undoes the moves made."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from tests.integration.dataops.trading_days import trade_days
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.config import Settings
from mcp_trading.dataops import swap
from mcp_trading.dataops.restore import RestoreFailedError, run_restore
from mcp_trading.platform.bootstrap import bootstrap

pytestmark = pytest.mark.slow

KILLER = Path(__file__).with_name("swap_killer.py")
CLI = [sys.executable, "-m", "mcp_trading"]


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    env.pop("DATABASE_URL", None)
    return {**env, "MCP_TRADING_DATA_DIR": str(data)}


def _cli(data: Path, *args: str, prog: list[str] = CLI) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prog, *args], capture_output=True, text=True, env=_env(data),
                          timeout=180, check=False)


def _content(db: Path) -> str:
    """A SQLite database's logical content with its -wal (a stray -wal would show), read
    from a copy: opening the file itself would checkpoint it and change its bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if db.with_name(db.name + suffix).exists():
                shutil.copy2(db.with_name(db.name + suffix), Path(tmp) / (db.name + suffix))
        conn = sqlite3.connect(Path(tmp) / db.name)
        try:
            return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
        finally:
            conn.close()


def _digest(data: Path) -> dict[str, str]:
    """Every store of the set by its place (SQLite by content, segments by bytes): what must
    change together."""
    out = {p.name: _content(p) for p in sorted(data.glob("*.db"))}
    out |= {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((data / "archive").rglob("*"))
            if p.is_file() and p.name != ".archive.lock"}
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data directory that moved on after its backup: (data dir, the backup)."""
    data = tmp_path_factory.mktemp("swap") / "var"
    trade_days(data, days=6)
    assert _cli(data, "archive", "--before", "2024-01-05").returncode == 0
    backed = _cli(data, "backup", "--json")
    assert backed.returncode == 0, backed.stderr
    trade_days(data, start="2024-01-09", days=2, seed=8)  # moves on: another journal, more
    assert _cli(data, "archive", "--before", "2024-01-08").returncode == 0  # and segments
    return data, Path(json.loads(backed.stdout)["path"])


@pytest.fixture(scope="module")
def old_and_new(template: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict[str, str], dict[str, str]]:
    """The store set before a restore and after an uninterrupted one."""
    data, backup = template
    copy = tmp_path_factory.mktemp("clean") / "var"
    shutil.copytree(data, copy)
    old = _digest(copy)
    done = _cli(copy, "restore", str(backup), "--yes", "--json")
    assert done.returncode == 0, done.stderr
    new = _digest(copy)
    assert old != new and "archive/journal-index.json" in new
    return old, new


def _kill_run(template: tuple[Path, Path], where: Path, kill_at: int
              ) -> subprocess.CompletedProcess[str]:
    data, backup = template
    shutil.copytree(data, where)
    return _cli(where, str(kill_at), "restore", str(backup), "--yes",
                prog=[sys.executable, str(KILLER)])


def test_kill_9_at_every_point_of_the_swap_leaves_old_or_new_never_a_mix(
        template: tuple[Path, Path], old_and_new: tuple[dict[str, str], dict[str, str]],
        tmp_path: Path) -> None:
    old, new = old_and_new
    seen = {"old": 0, "new": 0}
    for kill_at in range(-1, 30):
        where = tmp_path / f"k{kill_at}"
        run = _kill_run(template, where, kill_at)
        if run.returncode == 0:  # past the last rename: the swap finished undisturbed
            assert _digest(where) == new
            break
        assert run.returncode == -signal.SIGKILL, run.stderr
        planned = (where / swap.PLAN_NAME).exists()
        assert planned == (kill_at >= 0), f"kill at {kill_at}: plan {planned}"
        swap.finish_swap(Settings(data_dir=where))
        now = _digest(where)
        assert now in (old, new), f"kill at {kill_at}: a mix of old and new files: " + str(
            sorted(k for k in now if now.get(k) not in (old.get(k), new.get(k))))
        assert (now == old) == (kill_at == -1)  # past the commit point it rolls forward
        seen["old" if now == old else "new"] += 1
        if kill_at % 3 == 0:  # (each run costs seconds) and the stores check out
            checked = _cli(where, "verify", "--json")
            assert checked.returncode == 0, checked.stdout + checked.stderr
    else:
        pytest.fail("the swap never finished: more renames than a store set has files")
    assert seen["old"] == 1 and seen["new"] >= 5  # trading.db, -wal, reports, archive, ...


def test_the_next_command_finishes_an_interrupted_swap(template: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    where = tmp_path / "var"
    assert _kill_run(template, where, 3).returncode == -signal.SIGKILL
    assert (where / swap.PLAN_NAME).exists()
    checked = _cli(where, "verify", "--json")  # finishes it first, then checks the stores
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (where / swap.PLAN_NAME).exists()
    info = _cli(where, "journal", "info", "--json")
    manifest = json.loads((template[1] / "manifest.json").read_text())
    assert json.loads(info.stdout)["last_seq"] == manifest["journal_last_seq"]


def test_a_platform_built_on_an_interrupted_swap_finishes_it_first(
        template: tuple[Path, Path], old_and_new: tuple[dict[str, str], dict[str, str]],
        tmp_path: Path) -> None:
    where = tmp_path / "var"
    assert _kill_run(template, where, 5).returncode == -signal.SIGKILL
    assert (where / swap.PLAN_NAME).exists()
    bootstrap(Settings(data_dir=where), authenticator=FakeAuthenticator())  # before open()
    assert not (where / swap.PLAN_NAME).exists()
    assert _digest(where) == old_and_new[1]


def test_restore_after_a_kill_before_the_plan_clears_the_leftovers(
        template: tuple[Path, Path], old_and_new: tuple[dict[str, str], dict[str, str]],
        tmp_path: Path) -> None:
    _, new = old_and_new
    where = tmp_path / "var"
    assert _kill_run(template, where, -1).returncode == -signal.SIGKILL
    assert list(where.glob(".restore-*"))  # the restored copy, never swapped in
    again = _cli(where, "restore", str(template[1]), "--yes")
    assert again.returncode == 0, again.stderr
    assert _digest(where) == new and not list(where.glob(".restore-*"))


def test_an_error_mid_swap_undoes_the_moves_made(
        template: tuple[Path, Path], old_and_new: tuple[dict[str, str], dict[str, str]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, _ = old_and_new
    where = tmp_path / "var"
    shutil.copytree(template[0], where)
    real, calls = swap.rename, []

    def failing(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 4:  # after the current files were kept, while placing
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(swap, "rename", failing)
    with pytest.raises(RestoreFailedError, match="every move made was undone"):
        run_restore(Settings(data_dir=where), str(template[1]))
    assert _digest(where) == old
    assert not (where / swap.PLAN_NAME).exists() and not list(where.glob(".restore-*"))
