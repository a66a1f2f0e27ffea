"""`mcp-trading logs [--service S] [--since 10m] [--grep PATTERN] [--follow] [--json]` and
`mcp-trading logs --path` (the log directory, for scripts/log_management.sh).

Reads every *.log of the log directory and its rotated copies (.gz too), in time order.
Exit codes: 0 shown (also after Ctrl-C while following); 2 bad input (a --since or --grep
that cannot be read).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mcp_trading.cli.ops import AsJson, DataDir, _settings
from mcp_trading.domain.errors import InvalidError
from mcp_trading.platform.log_reader import (
    Follower,
    LogFilter,
    LogLine,
    compile_pattern,
    live_files,
    log_files,
    parse_since,
    read_logs,
)

__all__ = ["logs", "register"]

err = Console(stderr=True)


def _printer(as_json: bool) -> Callable[[LogLine], None]:
    def emit(line: LogLine) -> None:
        if not as_json:
            text = line.text
        elif line.data is not None:
            text = json.dumps({**line.data, "file": line.file})
        else:  # a console line, as an object with what could be read from it
            ts = (None if line.ts is None else
                  datetime.fromtimestamp(line.ts, UTC).isoformat().replace("+00:00", "Z"))
            text = json.dumps({"ts": ts, "service": line.service, "logger": line.logger,
                               "line": line.text, "file": line.file})
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    return emit


def logs(*, service: Annotated[str | None, typer.Option(
             "--service", "-s", help="Only this service's lines (trading-engine, orders, ...; "
                                     "platform: the embedded process).")] = None,
         since: Annotated[str | None, typer.Option(
             "--since", help="Only lines from this far back (90s, 10m, 2h, 1d) or since an "
                             "ISO 8601 time.")] = None,
         grep: Annotated[str | None, typer.Option(
             "--grep", help="Only lines matching this regular expression.")] = None,
         follow: Annotated[bool, typer.Option(
             "--follow", "-f", help="Keep printing new lines, across rotations (Ctrl-C "
                                    "stops).")] = False,
         path: Annotated[bool, typer.Option(
             "--path", help="Print the log directory and exit.")] = False,
         as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Show the platform's logs (rotated and compressed files too), filtered."""
    settings = _settings(data_dir)
    log_dir = settings.resolved_log_dir
    if path:
        print(log_dir)
        return
    try:
        keep = LogFilter(service=service, since=parse_since(since) if since else None,
                         pattern=compile_pattern(grep) if grep else None)
    except InvalidError as exc:
        err.print(f"[red]cannot read the logs[/red]: {escape(exc.message)}")
        raise typer.Exit(2) from None
    if not log_dir.is_dir():
        err.print(f"[yellow]no log directory[/yellow] at {log_dir} (nothing has run with these "
                  "settings yet; MCP_TRADING_LOG_DIR or --data-dir name another)")
        raise typer.Exit(0 if not follow else 1)
    emit = _printer(as_json)
    follower = Follower(live_files(log_dir, service)) if follow else None
    try:
        limits = follower.offsets() if follower is not None else None
        for line in read_logs(log_files(log_dir, service), keep, limits):
            emit(line)
        if follower is not None:
            follower.run(LogFilter(service=service, pattern=keep.pattern), emit)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a follow: not an error
    except BrokenPipeError:  # `| head`: the reader went away
        sys.stderr.close()
    finally:
        if follower is not None:
            follower.close()


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
