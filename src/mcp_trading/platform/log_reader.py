"""Reading the platform's log files: every *.log and its rotated copies (.gz too), filtered by
service, time and a pattern, merged in time order; and following them like `tail -F`.

A line is JSON (production) or a console line starting with its UTC timestamp (dev); a line
of neither kind (a traceback's) belongs to the record above it. `parse_since` reads the
`--since` forms: `90s`, `10m`, `2h`, `1d`, `1w`, or an ISO 8601 time (UTC unless it says).
"""

from __future__ import annotations

import gzip
import heapq
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mcp_trading.domain.errors import InvalidError

__all__ = [
    "Follower",
    "LogFilter",
    "LogLine",
    "compile_pattern",
    "live_files",
    "log_files",
    "parse_line",
    "parse_since",
    "read_logs",
]

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)")
_SERVICE = re.compile(r"\bservice=([\w.-]+)")
_ENGINE_LOGGERS = ("mcp_trading.lifecycle", "mcp_trading.kernel")
_LOGGER = re.compile(r"\[([\w.]+)\](?: service=|$)")


def parse_since(text: str, *, now: float | None = None) -> float:
    """`--since` as epoch seconds: a duration back from now (10m) or an ISO 8601 time."""
    match = _SINCE.match(text or "")
    if match:
        return (time.time() if now is None else now) - float(match[1]) * _UNIT_S[match[2].lower()]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidError(f"--since is {text!r}; write a duration (90s, 10m, 2h, 1d, 1w) or "
                           "an ISO 8601 time (2026-12-03T08:00:00Z)", field="since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`--grep` as a regular expression; InvalidError naming the mistake otherwise."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidError(f"--grep {pattern!r} is not a valid regular expression ({exc}); "
                           "escape special characters, e.g. 'order\\.filled' or '\\[error'",
                           field="grep") from None


@dataclass(frozen=True, slots=True)
class LogLine:
    ts: float | None  # epoch seconds; None when the line names no time
    service: str | None
    logger: str | None
    text: str  # the line as written
    data: dict[str, Any] | None  # the object of a JSON line
    file: str


def _stamp(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_line(text: str, file: str = "") -> LogLine:
    """One line of a log file, JSON or console; fields it does not name are None."""
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            ts = data.get("ts") or data.get("timestamp")
            return LogLine(_stamp(ts) if isinstance(ts, str) else None, data.get("service"),
                           data.get("logger"), text, data, file)
    match = _STAMP.match(text)
    if match is None:
        return LogLine(None, None, None, text, None, file)
    service, logger = _SERVICE.search(text), _LOGGER.search(text)
    return LogLine(_stamp(match[1]), service[1] if service else None,
                   logger[1] if logger else None, text, None, file)


def log_files(log_dir: Path, service: str | None = None) -> list[Path]:
    """Every log file of the directory, each live file after its rotated copies (oldest
    first); `service`: that service's files only (`<service>.log*`)."""
    if not log_dir.is_dir():
        return []
    stems = sorted(p.name for p in log_dir.glob("*.log") if p.is_file())
    if service is not None:
        stems = [s for s in stems if s == f"{service}.log"] or stems
    out: list[Path] = []
    for stem in stems:
        rotated = [p for p in log_dir.glob(stem + ".*") if p.is_file()]
        out += sorted(rotated, key=lambda p: (p.stat().st_mtime, p.name))
        out.append(log_dir / stem)
    return out


def live_files(log_dir: Path, service: str | None = None) -> list[Path]:
    """The files being written (what `--follow` tails)."""
    return [p for p in log_files(log_dir, service) if p.suffix == ".log"]


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _raw_lines(path: Path, limit: int | None) -> Iterator[str]:
    if limit is None:
        with _open(path) as fh:
            yield from fh
        return
    with path.open("rb") as raw:  # only what was there when a follow began
        yield from raw.read(limit).decode("utf-8", errors="replace").splitlines(keepends=True)


def _lines(path: Path, limit: int | None = None) -> Iterator[LogLine]:
    """A file's lines (its first `limit` bytes); a line without a time takes the time and
    service of the one above."""
    last: LogLine | None = None
    try:
        for raw in _raw_lines(path, limit):
            line = parse_line(raw.rstrip("\n"), path.name)
            if line.ts is None and last is not None:
                line = LogLine(last.ts, last.service, last.logger, line.text, None, path.name)
            last = line
            yield line
    except (OSError, EOFError) as exc:  # a truncated archive: what could be read was shown
        yield LogLine(None, None, None, f"# {path.name}: could not be read further ({exc})",
                      None, path.name)


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which lines to show: service, not before `since` (epoch s), matching `pattern`."""

    service: str | None = None
    since: float | None = None
    pattern: re.Pattern[str] | None = None

    def accepts(self, line: LogLine) -> bool:
        if self.since is not None and (line.ts is None or line.ts < self.since):
            return False
        if self.service is not None and not self._of_service(line):
            return False
        return self.pattern is None or self.pattern.search(line.text) is not None

    def _of_service(self, line: LogLine) -> bool:
        assert self.service is not None
        if line.file.startswith(self.service + ".log") or line.service == self.service:
            return True
        if line.logger is None:
            return False
        if self.service == "trading-engine" and line.logger.startswith(_ENGINE_LOGGERS):
            return True  # embedded: the kernel's lines are the trading engine's
        return "services." + self.service.replace("-", "_") in line.logger


def read_logs(files: Iterable[Path], keep: LogFilter,
              limits: Mapping[Path, int] | None = None) -> Iterator[LogLine]:
    """The accepted lines of `files`, merged by time (each file is in time order); `limits`:
    read only so many bytes of those files (a follow reads the rest)."""
    limits = limits or {}
    merged = heapq.merge(*(_lines(p, limits.get(p)) for p in files),
                         key=lambda line: line.ts or 0.0)
    return (line for line in merged if keep.accepts(line))


class Follower:
    """`tail -F` over files: new lines as they are written; a file moved away (rotated) is
    read to its end, then its successor from the start; a truncated file from the start."""

    def __init__(self, paths: list[Path], *, from_end: bool = True) -> None:
        self.paths = paths
        self._open: dict[Path, tuple[IO[str], int]] = {}  # path -> (handle, inode)
        self._partial: dict[Path, str] = {}
        self._starts: dict[Path, int] = {}
        for path in paths:
            self._reopen(path, at_end=from_end)

    def _reopen(self, path: Path, *, at_end: bool) -> None:
        old = self._open.pop(path, None)
        if old is not None:
            old[0].close()
        try:
            fh = path.open("r", encoding="utf-8", errors="replace")
        except OSError:
            return  # not there (yet): tried again on the next poll
        if at_end:
            self._starts[path] = fh.seek(0, os.SEEK_END)
        self._open[path] = (fh, os.fstat(fh.fileno()).st_ino)

    def poll(self) -> list[LogLine]:
        """What was written since the last poll, in file order."""
        out: list[LogLine] = []
        for path in self.paths:
            out += self._poll(path)
        return out

    def _poll(self, path: Path) -> list[LogLine]:
        current = self._open.get(path)
        if current is None:
            self._reopen(path, at_end=False)
            current = self._open.get(path)
            if current is None:
                return []
        fh, inode = current
        try:
            stat = path.stat()
        except FileNotFoundError:
            return self._read(path, fh)  # moved, successor not yet created
        if stat.st_ino == inode:
            if stat.st_size < fh.tell():  # truncated in place (copytruncate), as tail -F sees it
                fh.seek(0)
                self._partial.pop(path, None)
            return self._read(path, fh)
        lines = self._read(path, fh)  # rotated: the old file to its end, then the new one
        self._reopen(path, at_end=False)
        return lines + self._read(path, self._open[path][0])

    def _read(self, path: Path, fh: IO[str]) -> list[LogLine]:
        chunk = self._partial.pop(path, "") + fh.read()
        if not chunk:
            return []
        *complete, rest = chunk.split("\n")
        if rest:
            self._partial[path] = rest  # a line still being written
        return [parse_line(text, path.name) for text in complete]

    def run(self, keep: LogFilter, emit: Callable[[LogLine], None], *,
            interval: float = 0.25, stop: Callable[[], bool] = lambda: False) -> None:
        """Emit accepted new lines until `stop()` (or KeyboardInterrupt, for the caller)."""
        while not stop():
            for line in self.poll():
                if keep.accepts(line):
                    emit(line)
            time.sleep(interval)

    def offsets(self) -> dict[Path, int]:
        """Where each file's follow began: what a reading of the past stops at."""
        return dict(self._starts)

    def close(self) -> None:
        for fh, _ in self._open.values():
            fh.close()
        self._open.clear()
