"""DirectoryWatcher: a settled new or changed file is imported once; a growing one waits; a
refused one is reported once and retried only when it changes."""

from __future__ import annotations

import os
from pathlib import Path

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.summary import ImportSummary
from mcp_trading.adapters.history.watch import DirectoryWatcher, Refusal

GOOD = "Date,Open,High,Low,Close\n2010-01-04,1,2,0.5,1.5\n"


def _touch(path: Path, text: str, mtime: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime, mtime))


def test_a_new_file_is_imported_once_it_has_settled(tmp_path: Path) -> None:
    store = MemoryHistoryStore()
    watcher = DirectoryWatcher(tmp_path, store, source_prefix="files:")
    _touch(tmp_path / "AAPL.csv", GOOD, 1)
    (tmp_path / "notes.txt").write_text("not bars")
    assert watcher.poll() == []  # first seen: it may still be written
    (summary,) = watcher.poll()
    assert isinstance(summary, ImportSummary) and summary.source == "files:AAPL.csv"
    assert store.read("AAPL", "files:AAPL.csv", "1Day").size == 1
    assert watcher.poll() == []  # unchanged: not imported again


def test_a_growing_file_waits_and_a_changed_one_is_imported_again(tmp_path: Path) -> None:
    store = MemoryHistoryStore()
    watcher = DirectoryWatcher(tmp_path, store)
    path = tmp_path / "AAPL.csv"
    _touch(path, GOOD, 1)
    watcher.poll()
    _touch(path, GOOD + "2010-01-05,1,2,0.5,1.6\n", 2)  # grew between polls
    assert watcher.poll() == []
    (summary,) = watcher.poll()
    assert isinstance(summary, ImportSummary) and summary.bars == 2 and summary.inserted == 2
    _touch(path, GOOD + "2010-01-05,1,2,0.5,1.7\n", 3)
    watcher.poll()
    (again,) = watcher.poll()
    assert isinstance(again, ImportSummary) and (again.updated, again.unchanged) == (1, 1)


def test_a_refused_file_is_reported_once_until_it_changes(tmp_path: Path) -> None:
    store = MemoryHistoryStore()
    watcher = DirectoryWatcher(tmp_path, store)
    path = tmp_path / "IBM.csv"
    _touch(path, "Date,Open,High,Low,Close\n2010-01-04,1,2,3,1.5\n", 1)
    watcher.poll()
    (refusal,) = watcher.poll()
    assert isinstance(refusal, Refusal) and "row 2: high 2.0 is below low 3.0" in refusal.reason
    assert watcher.poll() == [] and watcher.poll() == []
    _touch(path, GOOD, 2)
    watcher.poll()
    (fixed,) = watcher.poll()
    assert isinstance(fixed, ImportSummary) and store.series()[0].symbol == "IBM"
