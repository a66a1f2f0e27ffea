"""Incident evidence: one private tarball of what an investigator needs first.

    parse_since(text)              "90s", "30m", "1h", "2d" (or plain seconds) -> seconds
    collect_evidence(settings, …)  write `incidents/incident-<UTC>.tar.gz` (mode 0600)

The tarball holds the platform's log files touched within the window (the emergency log
always), the status and health the caller gathered, the settings with every secret masked,
the open TCP connections on the platform's ports (psutil) and the journal's events of the
window, decoded, one JSON object a line; `manifest.json` lists each member with its size
and sha256 and says what could not be collected (each part is gathered on its own: one
that fails is named there, the others are still written).

States of the file: written as `<name>.partial` (created 0600, never readable by others at
any moment), renamed to `<name>` when complete; a crash leaves only a `.partial`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from mcp_trading import __version__
from mcp_trading.config import Settings
from mcp_trading.dataops.sources import settings_without_secrets

__all__ = ["MAX_JOURNAL_EVENTS", "collect_evidence", "parse_since"]

#: the journal's newest events looked at, at most (a window that holds more is cut, and says so)
MAX_JOURNAL_EVENTS = 200_000
_NS = 1_000_000_000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_SINCE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*")


def parse_since(text: str) -> float:
    """A window length: "90s", "30m", "1h", "2d" or plain seconds; ValueError naming the forms."""
    match = _SINCE.fullmatch(text or "")
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"--since {text!r} is not a duration; use e.g. 90s, 30m, 1h or 2d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _plain(value: Any) -> Any:
    """An event's fields as JSON values (named tuples as objects, numbers as exact strings)."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _journal_lines(settings: Settings, cutoff_ns: int) -> tuple[bytes, str | None]:
    """The window's journal events as JSON lines, and a note when the window was cut."""
    from mcp_trading.adapters.store import open_store
    from mcp_trading.kernel import codec

    store = open_store(settings.resolved_database_url)
    try:
        last = store.last_seq()
        after = max(0, last - MAX_JOURNAL_EVENTS)
        out = io.BytesIO()
        first_seen: int | None = None
        for seq, event in codec.events(store.read(after_seq=after), after):
            if first_seen is None:
                first_seen = event.ts
            if event.ts >= cutoff_ns:
                line = {"seq": seq, "event": type(event).__name__, **_plain(event)}
                out.write(json.dumps(line, default=str).encode() + b"\n")
    finally:
        store.close()
    cut = after > 0 and first_seen is not None and first_seen > cutoff_ns
    note = (f"journal: only the newest {MAX_JOURNAL_EVENTS} events were read; the window "
            "reaches further back (`mcp-trading journal info` for the whole)") if cut else None
    return out.getvalue(), note


def _platform_ports(settings: Settings, status: dict[str, Any]) -> set[int]:
    from mcp_trading.services import registry

    ports = {settings.port(name) for name in registry.names()}
    ports |= {int(row["port"]) for row in status.get("services", []) if row.get("port")}
    return ports


def _connections(ports: set[int]) -> list[dict[str, Any]]:
    import psutil

    rows = []
    for conn in psutil.net_connections(kind="inet"):
        local = conn.laddr.port if conn.laddr else None
        remote = conn.raddr.port if conn.raddr else None
        if local in ports or remote in ports:
            rows.append({"local": f"{conn.laddr.ip}:{conn.laddr.port}" if conn.laddr else None,
                         "remote": f"{conn.raddr.ip}:{conn.raddr.port}" if conn.raddr else None,
                         "status": conn.status, "pid": conn.pid,
                         "family": "ipv6" if conn.family == socket.AF_INET6 else "ipv4"})
    return sorted(rows, key=lambda r: (str(r["local"]), str(r["remote"])))


def _log_files(log_dir: Path, cutoff_s: float) -> Iterator[Path]:
    if not log_dir.is_dir():
        return
    for path in sorted(log_dir.iterdir()):
        if path.is_file() and (path.name == "emergency.log" or path.stat().st_mtime >= cutoff_s):
            yield path


class _Tarball:
    """A gzip tar written to a 0600 file, each member's size and sha256 remembered."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._raw = os.fdopen(fd, "wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6)
        self._tar = tarfile.TarFile(fileobj=self._gz, mode="w", format=tarfile.PAX_FORMAT)
        self.members: list[dict[str, Any]] = []

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        self._tar.addfile(info, io.BytesIO(data))
        self.members.append({"name": name, "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()})

    def add_file(self, name: str, path: Path) -> None:
        data = path.read_bytes()  # one read: a log written meanwhile is taken as it was then
        self.add_bytes(name, data)

    def close(self) -> None:
        self._tar.close()
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, default=str).encode() + b"\n"


def collect_evidence(settings: Settings, *, since_s: float, status: dict[str, Any],
                     health: dict[str, Any], out_dir: Path | None = None,
                     progress: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the evidence tarball (module docstring); returns its path and its manifest."""
    now = time.time()
    cutoff_s = now - since_s
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    target_dir = out_dir or settings.data_dir / "incidents"
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = target_dir / f"incident-{stamp}.tar.gz"
    partial = final.with_name(final.name + ".partial")
    tar = _Tarball(partial)
    problems: list[str] = []
    say = progress or (lambda _: None)

    def part(what: str, build: Callable[[], None]) -> None:
        say(what)
        try:
            build()
        except Exception as exc:  # each part on its own: the others are still collected
            problems.append(f"{what}: {type(exc).__name__}: {exc}")

    def logs() -> None:
        for path in _log_files(settings.resolved_log_dir, cutoff_s):
            tar.add_file(f"logs/{path.name}", path)

    def journal() -> None:
        data, note = _journal_lines(settings, int(cutoff_s * _NS))
        tar.add_bytes("journal.jsonl", data)
        if note:
            problems.append(note)

    try:
        part("logs", logs)
        part("status", lambda: tar.add_bytes("status.json", _json(status)))
        part("health", lambda: tar.add_bytes("health.json", _json(health)))
        part("settings", lambda: tar.add_bytes("settings.json",
                                               _json(settings_without_secrets(settings))))
        part("connections", lambda: tar.add_bytes("connections.json", _json(
            _connections(_platform_ports(settings, status)))))
        part("journal", journal)
        manifest = {"created_at": datetime.fromtimestamp(now, UTC).isoformat(),
                    "since": datetime.fromtimestamp(cutoff_s, UTC).isoformat(),
                    "window_s": since_s, "host": socket.gethostname(),
                    "platform_version": __version__, "data_dir": str(settings.data_dir),
                    "members": list(tar.members), "not_collected": problems}
        tar.add_bytes("manifest.json", _json(manifest))
        tar.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(final)
    return final, manifest
