"""The log files' handlers: internal rotation (size, age, gzip, retention) and the external
mode's reopen on SIGHUP or when logrotate moved the file."""

from __future__ import annotations

import gzip
import logging
import os
import signal
import time
from pathlib import Path

import pytest

from mcp_trading.platform.log_files import (
    ReopeningLogFile,
    RotatingLogFile,
    install_sighup_reopen,
    prune_archives,
)


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, "", 0, text, None, None)


def _archives(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".*"))


def test_a_file_reaching_max_bytes_is_rotated_gzipped_and_writing_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    handler = RotatingLogFile(path, max_bytes=1000, max_age_s=3600, keep_days=30)
    try:
        for i in range(60):
            handler.handle(_record(f"line {i:03d} " + "x" * 40))
        handler.wait_archived()
    finally:
        handler.close()
    archives = _archives(path)
    assert archives and all(a.suffix == ".gz" for a in archives)  # none left uncompressed
    assert all(a.stat().st_size < 1000 for a in archives)
    text = "".join(gzip.decompress(a.read_bytes()).decode() for a in archives) + path.read_text()
    assert [f"line {i:03d}" in text for i in range(60)] == [True] * 60  # nothing lost
    assert path.stat().st_size <= 1000 + 60  # at most one line past the limit


def test_a_file_older_than_max_age_is_rotated_whatever_its_size(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    handler = RotatingLogFile(path, max_bytes=10**9, max_age_s=0.2, keep_days=30)
    try:
        handler.handle(_record("before"))
        time.sleep(0.3)
        handler.handle(_record("after"))
        handler.wait_archived()
    finally:
        handler.close()
    [archive] = _archives(path)
    assert gzip.decompress(archive.read_bytes()).decode() == "before\n"
    assert path.read_text() == "after\n"


def test_archives_older_than_keep_days_are_deleted_at_rotation(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    old = tmp_path / "platform.log.20200101T000000.gz"
    recent = tmp_path / "platform.log.20261101T000000.gz"
    other = tmp_path / "orders.log.20200101T000000.gz"  # another file's: not this handler's
    for archive in (old, recent, other):
        archive.write_bytes(gzip.compress(b"x\n"))
    now = time.time()
    os.utime(old, (now - 40 * 86_400, now - 40 * 86_400))
    os.utime(other, (now - 40 * 86_400, now - 40 * 86_400))
    os.utime(recent, (now - 5 * 86_400, now - 5 * 86_400))
    handler = RotatingLogFile(path, max_bytes=10, max_age_s=3600, keep_days=30)
    try:
        handler.handle(_record("0123456789abc"))
        handler.handle(_record("next"))  # rotates: the file is past 10 bytes
        handler.wait_archived()
    finally:
        handler.close()
    assert not old.exists()
    assert recent.exists() and other.exists()
    assert len(_archives(path)) == 2  # the recent one and the new one


def test_prune_keeps_what_is_younger_than_the_retention(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    archive = tmp_path / "x.log.1.gz"
    archive.write_bytes(b"")
    assert prune_archives(path, 1, now=time.time()) == []
    assert prune_archives(path, 1, now=time.time() + 2 * 86_400) == [archive]


def test_external_mode_reopens_a_file_logrotate_moved(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    handler = ReopeningLogFile(path)
    try:
        handler.handle(_record("one"))
        path.rename(tmp_path / "platform.log.1")  # logrotate's `create` rotation
        handler.handle(_record("two"))
    finally:
        handler.close()
    assert (tmp_path / "platform.log.1").read_text() == "one\n"
    assert path.read_text() == "two\n"


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this system")
def test_sighup_reopens_the_file_in_external_mode(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    handler = ReopeningLogFile(path)
    previous = signal.getsignal(signal.SIGHUP)
    try:
        assert install_sighup_reopen([handler])
        handler.handle(_record("one"))
        opened = handler.stream
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)  # the handler runs in the main thread between bytecodes
        handler.handle(_record("two"))
        assert handler.stream is not opened  # reopened, although the file never moved
        assert path.read_text() == "one\ntwo\n"
    finally:
        signal.signal(signal.SIGHUP, previous)
        handler.close()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this system")
def test_a_stray_sighup_in_internal_mode_reopens_and_never_ends_the_process(
        tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    handler = RotatingLogFile(path, max_bytes=10**6, max_age_s=3600, keep_days=30)
    previous = signal.getsignal(signal.SIGHUP)
    try:
        assert install_sighup_reopen([handler])
        handler.handle(_record("one"))
        opened = handler.stream
        os.kill(os.getpid(), signal.SIGHUP)  # Python's default would end this process
        time.sleep(0.05)
        handler.handle(_record("two"))
        assert handler.stream is not opened
        assert path.read_text() == "one\ntwo\n"
    finally:
        signal.signal(signal.SIGHUP, previous)
        handler.close()
