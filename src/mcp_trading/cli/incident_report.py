"""`mcp-trading incident report [--since ...] [--out FILE]`: the runbook's post-incident
template (duration, impact, root cause, resolution, prevention) as Markdown, pre-filled with
the timeline from the log directory's `emergency.log` (emergency actions, maintenance) and
`alerts.log` (every alert, health changes among them, and acknowledgements), for a person
to complete.

The files are read, never changed, so this works with the platform stopped; when it runs,
the alerts service's `/health` adds the health as it is now.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from mcp_trading.config import Settings
from mcp_trading.dataops.archive_alerts import ALERTS_ARCHIVE

__all__ = ["Entry", "add_commands", "parse_since", "render", "timeline"]

err = Console(stderr=True)
_AGO = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: alert kinds that are changes of health (also every rule's alert: details.rule)
_HEALTH_KINDS = frozenset({"health", "stale_feed", "journal", "backup_age", "background"})
_BACK = frozenset({"resume", "maintenance-complete"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline."""

    ts: datetime
    source: str  # emergency, alert, health, ack
    what: str
    severity: str = ""


def parse_since(value: str, now: datetime) -> datetime:
    """`30m`, `2h`, `1d`, `1w` ago, or an ISO time (UTC unless it says)."""
    text = value.strip()
    if m := _AGO.fullmatch(text):
        return now - timedelta(**{_UNITS[m[2]]: int(m[1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {value!r}: use a span like 30m, 2h, 1d, 1w or an ISO time "
                         "like 2026-12-03T09:00") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _lines(path: Path, *, skip: frozenset[str] = frozenset()
           ) -> tuple[list[dict[str, Any]], int]:
    """The JSON objects of a JSON-lines file (less the lines in `skip`) and how many lines
    were unreadable."""
    if not path.exists():
        return [], 0
    rows, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line in skip:
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or "ts" not in row:
                raise ValueError
            row["_ts"] = datetime.fromisoformat(str(row["ts"]).replace("Z", "+00:00"))
            rows.append(row)
        except ValueError:
            bad += int(bool(line.strip()))
    return rows, bad


def timeline(log_dir: Path, since: datetime, archive: Path | None = None
             ) -> tuple[list[Entry], int, int]:
    """Emergency actions and alerts since `since`, oldest first; the unreadable lines; and
    how many of the alerts came from the archive (`archive`/alerts.jsonl: an archive run
    moved them out of alerts.log)."""
    emergency, bad_e = _lines(log_dir / "emergency.log")
    alerts, bad_a = _lines(log_dir / "alerts.log")
    archived: list[dict[str, Any]] = []
    if archive is not None:  # a line in both (a run that died midway) is counted once
        hot = frozenset((log_dir / "alerts.log").read_text(encoding="utf-8", errors="replace")
                        .splitlines()) if (log_dir / "alerts.log").exists() else frozenset()
        archived, bad_r = _lines(archive / ALERTS_ARCHIVE, skip=hot)
        archived = [r for r in archived if r["_ts"] >= since]
        alerts, bad_a = alerts + archived, bad_a + bad_r
    entries = [Entry(r["_ts"], "emergency", f"{r.get('action')} by {r.get('actor')}: "
                                            f"{r.get('reason')}")
               for r in emergency if r["_ts"] >= since]
    for r in alerts:
        if r["_ts"] < since:
            continue
        if r.get("event") == "acknowledged":
            entries.append(Entry(r["_ts"], "ack", f"alert {r.get('id')} ({r.get('kind')}) "
                                                  f"acknowledged by {r.get('acknowledged_by')}"))
            continue
        raw = r.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        health = r.get("kind") in _HEALTH_KINDS or "rule" in details
        entries.append(Entry(r["_ts"], "health" if health else "alert",
                             f"{r.get('kind')}: {r.get('message')} (alert {r.get('id')})",
                             str(r.get("severity", ""))))
    entries.sort(key=lambda e: e.ts)
    return entries, bad_e + bad_a, len(archived)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _facts(entries: list[Entry]) -> list[str]:
    critical = sum(e.severity == "critical" for e in entries)
    halts = [e for e in entries if e.source == "emergency" and e.what.startswith("halt")]
    backs = [e for e in entries if e.source == "emergency"
             and e.what.split(" ", 1)[0].split(":")[0] in _BACK]
    facts = [f"{len(entries)} events: {critical} critical alerts, {len(halts)} halts, "
             f"{sum(e.source == 'health' for e in entries)} health changes"]
    if halts:
        end = next((e.ts for e in backs if e.ts >= halts[0].ts), None)
        facts.append(f"trading halted at {halts[0].ts:%Y-%m-%d %H:%M:%S} UTC" +
                     (f", resumed {end:%H:%M:%S} UTC" if end else ", not resumed in this window"))
    return facts


def render(entries: list[Entry], *, since: datetime, now: datetime, unreadable: int = 0,
           health_now: str | None = None, archived: int = 0) -> str:
    """The runbook's template, its blanks kept as `[...]` for a person to fill."""
    start = entries[0].ts if entries else since
    end = entries[-1].ts if entries else now
    facts = "\n".join(f"- {f}" for f in _facts(entries))
    rows = "\n".join(f"| {e.ts:%Y-%m-%d %H:%M:%S} | {e.source} | {e.severity} | {_cell(e.what)} |"
                     for e in entries) or "| | | | nothing recorded in this window |"
    actions = "\n".join(f"- {e.ts:%H:%M:%S} {e.what}" for e in entries
                        if e.source == "emergency") or "- (no emergency action recorded)"
    notes = [f"Window: {since:%Y-%m-%d %H:%M} UTC to {now:%Y-%m-%d %H:%M} UTC."]
    if archived:
        notes.append(f"{archived} alert lines of this window come from the alerts archive "
                     "(an archive run moved them out of alerts.log).")
    if unreadable:
        notes.append(f"{unreadable} unreadable log lines were left out.")
    if health_now:
        notes.append(f"Health now: {health_now}.")
    return f"""## Incident Report: {start:%Y-%m-%d %H:%M}

**Duration**: {start:%Y-%m-%d %H:%M:%S} UTC - {end:%Y-%m-%d %H:%M:%S} UTC [confirm start and end]
**Impact**: [Description of impact]
{facts}

**Root Cause**: [Identified cause]
**Resolution**: [Steps taken to resolve]
{actions}

**Prevention**: [Steps to prevent recurrence]

### Timeline (emergency log, alerts, health changes)

| time (UTC) | source | severity | what |
|---|---|---|---|
{rows}

_{' '.join(notes)}_
"""


def _health_now(settings: Settings) -> str | None:
    try:
        response = httpx.get(f"{settings.service_url('alerts')}/health", timeout=2.0)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    failing = (body.get("platform_health") or {}).get("failing_checks") or []
    return f"{body.get('status')}" + (f", failing: {'; '.join(failing)}" if failing else "")


def _write(out: Path, text: str) -> None:
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: the directory {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)  # whole or not at all


def add_commands(group: typer.Typer) -> None:
    """Add `report` to the `incident` group."""

    @group.command("report")
    def report(since: Annotated[str, typer.Option(
                   help="Start of the window: 30m, 2h, 1d, 1w ago, or an ISO time.")] = "24h",
               out: Annotated[Path | None, typer.Option(
                   "--out", help="Write the Markdown here (default: print it).")] = None,
               data_dir: Annotated[Path | None, typer.Option(
                   "--data-dir", help="Data directory (default ./var or MCP_TRADING_DATA_DIR).")
               ] = None) -> None:
        """The post-incident template as Markdown, with the timeline filled in."""
        from mcp_trading.dataops.archive import archive_dir

        settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
        now = datetime.now(UTC)
        try:
            start = parse_since(since, now)
            entries, unreadable, archived = timeline(settings.resolved_log_dir, start,
                                                     archive_dir(settings))
            text = render(entries, since=start, now=now, unreadable=unreadable,
                          health_now=_health_now(settings), archived=archived)
            if out is None:
                typer.echo(text, nl=False)
                return
            _write(out, text)
        except (ValueError, OSError) as exc:
            err.print(f"[red]cannot write the incident report[/red]: {exc}")
            raise typer.Exit(1) from None
        err.print(f"incident report with {len(entries)} timeline entries written to {out}")
