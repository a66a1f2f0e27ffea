"""Watching a directory of CSV/Parquet files: each new or changed file is imported once.

A file is known by its name, size and mtime. Its states, per name:

    unseen -> growing      first seen, or its size/mtime changed since the last poll: wait
    growing -> imported    unchanged for one whole poll interval: imported (a summary)
    growing -> refused     unchanged, but the import refused it: reported once (a Refusal)
    imported | refused -> growing   the file changed again

So a file still being written is retried at the next poll, and a refused file is not retried
(nor reported again) until it changes. `poll(settle=False)` imports what it finds at once (a
one-off scan, e.g. from the CLI, where no writer is racing). The source of a file's bars is
``<source_prefix><file name>`` (default ``import:``, as `mcp-trading data import`), or one
`source` for every file (the files provider stores the whole directory under its name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.importer import import_file
from mcp_trading.adapters.history.summary import ImportSummary
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["WATCHED_SUFFIXES", "DirectoryWatcher", "Refusal"]

WATCHED_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")

_Stat = tuple[int, int]  # size, mtime ns


@dataclass(frozen=True, slots=True)
class Refusal:
    """A file the watcher could not import, and why (the import's message)."""

    file: str
    reason: str
    row: int | None = None  # the file's row at fault (header = row 1); None: the whole file


class DirectoryWatcher:
    """Imports the directory's new or changed files, one all-or-nothing import per file."""

    def __init__(self, path: str | Path, store: HistoryStore, *, source_prefix: str = "import:",
                 source: str | None = None,
                 importer: Callable[..., ImportSummary] = import_file) -> None:
        self.path = Path(path)
        self._store = store
        self._prefix = source_prefix
        self._source = source
        self._import = importer
        self._pending: dict[str, _Stat] = {}  # growing: the stat seen at the last poll
        self._done: dict[str, _Stat] = {}  # imported or refused, at this stat

    def poll(self, *, settle: bool = True) -> list[ImportSummary | Refusal]:
        """Import what has settled since the last poll (`settle=False`: everything new now);
        the outcomes, by file name."""
        if not self.path.is_dir():
            raise NotFoundError(f"{self.path}: no such directory to watch", field="path")
        outcomes: list[ImportSummary | Refusal] = []
        current = self._scan()
        for name in sorted(current):
            stat = current[name]
            if self._done.get(name) == stat:
                continue
            if settle and self._pending.get(name) != stat:
                self._pending[name] = stat  # new or still changing: look again next poll
                continue
            self._pending.pop(name, None)
            self._done[name] = stat
            outcomes.append(self._one(self.path / name))
        for gone in set(self._pending) - set(current):
            del self._pending[gone]
        return outcomes

    def _scan(self) -> dict[str, _Stat]:
        found: dict[str, _Stat] = {}
        for entry in self.path.iterdir():
            if entry.is_file() and entry.name.lower().endswith(WATCHED_SUFFIXES) \
                    and not entry.name.startswith("."):
                st = entry.stat()
                found[entry.name] = (st.st_size, st.st_mtime_ns)
        return found

    def _one(self, file: Path) -> ImportSummary | Refusal:
        source = self._source or self._prefix + file.name
        try:
            summary: ImportSummary = self._import(self._store, file, source=source)
        except InvalidError as exc:
            row = exc.extra.get("row")
            return Refusal(str(file), exc.message, row if isinstance(row, int) else None)
        return summary
