"""Swapping a restored copy in: many files, one commit point, finished after a crash.

A SQLite platform keeps several files that must change together (trading.db with its -wal and
-shm, trading-reports.db, history.db, the archived journal directory; PostgreSQL adds a
database rename). No single rename covers them — they may even live in different directories
— so the swap is a small redo log, the *swap plan* <data_dir>/restore-swap.json:

    (no plan)  the data in place is whole: the old data, or the new after a finished swap.
    forward    the plan was written (tmp file, fsync, rename: the commit point). Every
               restored file already sits checked and fsynced on its target's file system,
               so each listed move is one rename: each current file into the rollback copy,
               then each staged file onto its target, then the database rename.
    back       a move failed with an error (not a crash): the moves made are undone, in
               reverse; the plan says so first, so a crash while undoing keeps undoing.
    (removed)  every move made (or undone) and the directories fsynced: the plan is deleted.

Each move's progress is visible on disk — a rename leaves its source gone and its destination
there; the database rename leaves the restored database's name free — so replaying a plan
is idempotent. A crash anywhere after the commit point is finished by `finish_swap`, which
the next restore, backup, start, offline halt, verify and archive run call before they open
a store; a crash before it leaves the data in place untouched (the staged copies are
leftovers the next restore deletes). Either way the stores are the old set or the new set,
never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from mcp_trading.config import Settings
from mcp_trading.dataops import pgadmin
from mcp_trading.domain.errors import ConflictError

__all__ = ["PLAN_NAME", "SwapError", "finish_swap", "plan_path", "rename", "run_plan",
           "stage", "write_plan"]

PLAN_NAME = "restore-swap.json"


class SwapError(ConflictError):
    """A swap plan could not be carried out; the plan stays so the next try resumes it."""


def plan_path(settings: Settings) -> Path:
    return settings.data_dir.resolve() / PLAN_NAME


def rename(source: Path, target: Path) -> None:
    """The one primitive every move uses (the fault tests interpose here)."""
    os.replace(source, target)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    if path.is_dir():
        for sub in sorted(path.rglob("*")):
            if sub.is_file():
                with sub.open("rb+") as f:
                    os.fsync(f.fileno())
        _fsync_dir(path)
    elif path.exists():
        with path.open("rb+") as f:
            os.fsync(f.fileno())


def stage(source: Path, target: Path, stamp: str) -> Path:
    """`source` where one rename puts it onto `target`: itself when both are on one file
    system, else a copy beside the target (fsynced either way)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.stat().st_dev == target.parent.stat().st_dev:
        _fsync_tree(source)
        return source
    staged = target.with_name(f".{target.name}.restore-{stamp}")
    if source.is_dir():
        shutil.copytree(source, staged)
    else:
        shutil.copy2(source, staged)
    _fsync_tree(staged)
    return staged


def write_plan(path: Path, plan: dict[str, Any]) -> None:
    """Write the plan atomically and durably: from here on the swap happens."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        json.dump(plan, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _move_forward(kind: str, src: Path, dst: Path) -> None:
    """Done-ness is read off the disk: a kept file is in the rollback copy (`dst`) — its old
    place may by then hold the restored file — and a placed one's staged copy is gone."""
    if kind == "keep":
        if not dst.exists() and src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            rename(src, dst)
    elif src.exists():
        rename(src, dst)
    elif not dst.exists():
        raise SwapError(f"swap: the restored copy {src} is gone and {dst} was never placed; "
                        "the replaced data is in the rollback copy the plan names")


def _move_back(kind: str, src: Path, dst: Path) -> None:
    """Undone in reverse order: a placed file goes back to its staged place, then a kept
    one back to its own."""
    if kind == "keep":
        if dst.exists():
            rename(dst, src)
    elif dst.exists() and not src.exists():
        rename(dst, src)


def _pg_forward(url: str, step: dict[str, str]) -> None:
    current, new, rollback = step["current"], step["new"], step["rollback"]
    if pgadmin.database_exists(url, new):  # not yet renamed (it is one transaction)
        pgadmin.swap_databases(url, current, new, rollback)


def _pg_back(url: str, step: dict[str, str]) -> None:
    current, new, rollback = step["current"], step["new"], step["rollback"]
    if pgadmin.database_exists(url, rollback):
        pgadmin.swap_databases(url, current, rollback, new)


def _replay(plan: dict[str, Any], pg_url: str) -> None:
    forward = plan["direction"] == "forward"
    steps = plan["steps"] if forward else list(reversed(plan["steps"]))
    for step in steps:
        if "pg" in step:
            (_pg_forward if forward else _pg_back)(pg_url, step["pg"])
        else:
            (_move_forward if forward else _move_back)(step["kind"], Path(step["src"]),
                                                       Path(step["dst"]))
    for directory in sorted({Path(s["dst"]).parent for s in plan["steps"] if "dst" in s}
                            | {Path(s["src"]).parent for s in plan["steps"] if "src" in s}):
        if directory.exists():
            _fsync_dir(directory)


def run_plan(settings: Settings, plan: dict[str, Any]) -> None:
    """Commit `plan` and carry it out; on an error undo the moves made, then re-raise.

    (The PostgreSQL URL is not in the plan, which is a file on disk: it may hold a password.)"""
    path, url = plan_path(settings), settings.resolved_database_url
    write_plan(path, plan)
    try:
        _replay(plan, url)
    except Exception:
        plan = {**plan, "direction": "back"}
        write_plan(path, plan)
        _replay(plan, url)
        path.unlink()
        raise
    path.unlink()
    _fsync_dir(path.parent)


def finish_swap(settings: Settings) -> dict[str, Any] | None:
    """Finish a swap a crash interrupted (forward, or back if it was being undone); return
    the plan carried out, None when there was none. Cheap when there is none (one stat)."""
    path = plan_path(settings)
    if not path.exists():
        return None
    from mcp_trading.dataops.backup import backup_lock

    with backup_lock(settings.resolved_backup_dir):
        if not path.exists():  # another process finished it meanwhile
            return None
        try:
            plan: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SwapError(f"the swap plan {path} is unreadable ({exc}); the interrupted "
                            "restore's rollback copy is in the rollback-* directory beside it"
                            ) from None
        _replay(plan, settings.resolved_database_url)
        path.unlink()
        _fsync_dir(path.parent)
        leftovers = plan.get("staging")
        if leftovers and plan["direction"] == "forward":
            shutil.rmtree(leftovers, ignore_errors=True)
    return plan
