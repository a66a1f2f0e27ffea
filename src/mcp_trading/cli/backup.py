"""`mcp-trading backup [--to DIR] [--archive] [--json]`, `backup list`, `restore`.

Exit codes: 0 done (backup verified / restore checked); 1 a verification or check failed,
or the backup was refused (corrupt, incomplete, unverified); 2 bad input or the platform is
running (restore without --stop).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcp_trading.cli.ops import AsJson, DataDir, _running, _settings, stop
from mcp_trading.domain.errors import TradingError

__all__ = ["backup", "backup_app", "backup_list", "register", "restore"]

console = Console()
err = Console(stderr=True)
backup_app = typer.Typer(help="Verified backups of every store (and `backup list`).",
                         invoke_without_command=True)


@contextmanager
def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr for the long phases (none with --json or no tty)."""
    if not enabled or not err.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TimeElapsedColumn(), console=err, transient=True)
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=max(total, 1))
        bar.update(tasks[phase], completed=done)

    with bar:
        yield update


@backup_app.callback()
def backup(ctx: typer.Context, *,
           to: Annotated[Path | None, typer.Option("--to", help="Backup directory (default "
                                                   "MCP_TRADING_BACKUP_DIR or <data_dir>/"
                                                   "backups).")] = None,
           archive: Annotated[bool, typer.Option("--archive", help="One .tar file instead of "
                                                 "a directory.")] = False,
           as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Back up every store while the platform runs, verify it, apply the retention."""
    if ctx.invoked_subcommand is not None:
        return
    from mcp_trading.dataops.backup import run_backup

    settings = _settings(data_dir)
    try:
        with _progress(not as_json) as progress:
            manifest = run_backup(settings, to, archive=archive, progress=progress)
    except TradingError as exc:
        err.print(f"[red]backup failed[/red]: {exc}")
        raise typer.Exit(1) from None
    ok = manifest["status"] == "verified"
    if as_json:
        print(json.dumps({k: manifest.get(k) for k in (
            "name", "path", "status", "journal_last_seq", "started_at", "ended_at", "phases",
            "verification", "pruned", "files")}))
    else:
        colour = "green" if ok else "red"
        console.print(f"[{colour}]{manifest['status']}[/{colour}] {manifest['path']} "
                      f"(journal seq {manifest['journal_last_seq']})")
        for check in manifest["verification"]["checks"]:
            mark = "[green]ok[/green]" if check["ok"] else "[red]FAILED[/red]"
            console.print(f"  {mark} {check['name']}: {check['detail']}")
        for name in manifest.get("pruned") or []:
            console.print(f"  retention: deleted {name}")
    if not ok:
        raise typer.Exit(1)


@backup_app.command("list")
def backup_list(to: Annotated[Path | None, typer.Option("--to", help="Backup directory.")] = None,
                as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The backups, oldest first: name, status, journal seq, size, age."""
    from mcp_trading.dataops.retention import list_backups

    settings = _settings(data_dir)
    rows = list_backups(to or settings.resolved_backup_dir)
    now = datetime.now(UTC)
    for row in rows:
        row["age_h"] = round((now - row.pop("when")).total_seconds() / 3600, 2)
    if as_json:
        print(json.dumps({"backups": rows}))
        return
    table = Table("name", "status", "journal seq", "size (MB)", "age (h)", "path")
    for row in rows:
        table.add_row(row["name"], row["status"], str(row["journal_last_seq"]),
                      f"{row['size'] / 1e6:.1f}", str(row["age_h"]), row["path"])
    console.print(table)


def restore(backup: Annotated[str, typer.Argument(help="A backup directory or .tar, its name "
                                                  "in the backup directory, or `latest` "
                                                  "(the newest verified one).")],
            *, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]
            = False,
            stop_first: Annotated[bool, typer.Option("--stop", help="Stop the running platform "
                                                     "gracefully first.")] = False,
            store: Annotated[str | None, typer.Option(
                "--store", help="Refuse unless the backup's journal is this store (sqlite or "
                "postgres; restore_databases.sh's second argument).")] = None,
            as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Restore a verified backup: checked first, restored aside, swapped in, rollback kept."""
    from mcp_trading.dataops.manifest import BackupInvalidError
    from mcp_trading.dataops.restore import check_backup, opened, resolve_backup, run_restore

    settings = _settings(data_dir)
    try:
        path = resolve_backup(settings, backup)
        with opened(path, settings.data_dir.resolve()) as (directory, manifest):
            check_backup(directory, manifest)  # refuse a bad backup before asking anything
        _check_store(manifest, store)
    except BackupInvalidError as exc:
        err.print(f"[red]refused[/red]: {exc}")
        raise typer.Exit(1) from None
    except TradingError as exc:
        err.print(f"[red]cannot restore[/red]: {exc}")
        raise typer.Exit(2) from None
    if _running(settings) is not None:
        if not stop_first:
            err.print("[red]refused[/red]: the platform is running; stop it first "
                      "(`mcp-trading stop`) or pass --stop to stop it gracefully")
            raise typer.Exit(2)
        stop(data_dir=data_dir)
    if not yes and not typer.confirm(
            f"Replace the data of {settings.data_dir} with backup {manifest['name']} (journal "
            f"seq {manifest['journal_last_seq']})? The current data is kept as a rollback copy"):
        raise typer.Exit(2)
    try:
        with _progress(not as_json) as progress:
            report = run_restore(settings, str(path), progress)
    except TradingError as exc:
        err.print(f"[red]restore failed[/red]: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(report))
    else:
        console.print(f"[green]restored[/green] {report['backup']} (journal seq "
                      f"{report['journal_last_seq']}); rollback copy: "
                      f"{report['rollback']['directory'] or report['rollback']['database']}")
        for check in report["checks"]:
            mark = "[green]ok[/green]" if check["ok"] else "[red]FAILED[/red]"
            console.print(f"  {mark} {check['name']}: {check['detail']}")
    if not report["ok"]:
        raise typer.Exit(1)


def _check_store(manifest: dict[str, Any], store: str | None) -> None:
    from mcp_trading.dataops.manifest import BackupInvalidError

    if store is None:
        return
    if store not in ("sqlite", "postgres"):
        raise TradingError(f"--store was {store!r}; use sqlite or postgres (the platform keeps "
                           "no MongoDB: its analytics data lives in the journal's database)")
    kinds = {e["kind"] for e in manifest["files"] if "journal" in e.get("roles", [])}
    if store not in kinds:
        raise BackupInvalidError(f"backup {manifest['name']} holds a {'/'.join(kinds)} "
                                 f"journal, not {store}; nothing was touched", field="backup")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
    app.command()(restore)
