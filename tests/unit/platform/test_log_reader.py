"""Reading the log files: --since forms, --grep errors, rotated .gz copies merged in time
order, the service filter, and following across rotation and truncation."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from mcp_trading.domain.errors import InvalidError
from mcp_trading.platform.log_reader import (
    Follower,
    LogFilter,
    compile_pattern,
    log_files,
    parse_line,
    parse_since,
    read_logs,
)

NOW = 1_800_000_000.0


def _console(ts: str, event: str, service: str = "platform", logger: str = "x") -> str:
    return f"{ts} [info     ] {event:<30} k=v [{logger}] service={service}"


def _json(ts: str, event: str, service: str = "platform") -> str:
    return json.dumps({"ts": ts, "level": "info", "event": event, "service": service})


@pytest.mark.parametrize(("text", "back"), [("90s", 90), ("10m", 600), ("2h", 7200),
                                            ("1d", 86_400), ("1w", 604_800), ("1.5h", 5400)])
def test_since_reads_durations_back_from_now(text: str, back: float) -> None:
    assert parse_since(text, now=NOW) == NOW - back


def test_since_reads_iso_times_utc_unless_they_say() -> None:
    assert parse_since("2027-01-15T08:00:00Z") == parse_since("2027-01-15T08:00:00")
    assert parse_since("2027-01-15T09:00:00+01:00") == parse_since("2027-01-15T08:00:00Z")


@pytest.mark.parametrize("text", ["10x", "yesterday", "", "-5m"])
def test_a_bad_since_names_the_forms_it_takes(text: str) -> None:
    with pytest.raises(InvalidError, match=r"--since .*10m.*ISO 8601") as caught:
        parse_since(text)
    assert caught.value.field == "since"


def test_a_bad_grep_says_what_is_wrong_and_how_to_escape() -> None:
    with pytest.raises(InvalidError, match=r"not a valid regular expression .*escape"):
        compile_pattern("order(")
    assert compile_pattern(r"order \w+").search("order filled")


def test_console_and_json_lines_are_parsed() -> None:
    console = parse_line(_console("2027-01-15T08:00:00.500000Z", "order filled",
                                  "orders", "mcp_trading.lifecycle"))
    assert (console.ts, console.service, console.logger) == (
        parse_since("2027-01-15T08:00:00.5Z"), "orders", "mcp_trading.lifecycle")
    as_json = parse_line(_json("2027-01-15T08:00:00Z", "x", "risk"))
    assert (as_json.service, as_json.data is not None) == ("risk", True)
    assert parse_line("  File \"x.py\", line 3").ts is None


def _write_logs(log_dir: Path) -> None:
    log_dir.mkdir()
    rotated = "\n".join([_console("2027-01-15T08:00:00Z", "old one"),
                         _console("2027-01-15T08:02:00Z", "old two")]) + "\n"
    (log_dir / "platform.log.20270115T080500.gz").write_bytes(gzip.compress(rotated.encode()))
    (log_dir / "platform.log").write_text(
        _console("2027-01-15T08:06:00Z", "new one") + "\nTraceback (most recent call last):\n"
        + _console("2027-01-15T08:08:00Z", "new two") + "\n")
    (log_dir / "emergency.log").write_text(
        json.dumps({"ts": "2027-01-15T08:01:00.000000Z", "action": "halt"}) + "\n")
    (log_dir / "orders.log").write_text(_json("2027-01-15T08:03:00Z", "orders up", "orders")
                                        + "\n")


def test_rotated_and_compressed_files_are_read_and_merged_in_time_order(tmp_path: Path) -> None:
    _write_logs(tmp_path / "logs")
    texts = [line.text for line in read_logs(log_files(tmp_path / "logs"), LogFilter())]
    order = ["old one", "halt", "old two", "orders up", "new one", "Traceback", "new two"]
    assert [next(i for i, t in enumerate(texts) if word in t) for word in order] == list(
        range(len(order)))


def test_since_service_and_grep_filter(tmp_path: Path) -> None:
    _write_logs(tmp_path / "logs")
    files = log_files(tmp_path / "logs")
    since = [line.text for line in read_logs(files, LogFilter(
        since=parse_since("2027-01-15T08:05:00Z")))]
    assert len(since) == 3 and "Traceback" in since[1]  # the traceback goes with its line
    orders = [line.text for line in read_logs(log_files(tmp_path / "logs", "orders"),
                                              LogFilter(service="orders"))]
    assert orders == [_json("2027-01-15T08:03:00Z", "orders up", "orders")]
    grep = [line.text for line in read_logs(files, LogFilter(pattern=compile_pattern("two$")))]
    assert len(grep) == 0  # the console lines end in service=...
    grep = [line.text for line in read_logs(files, LogFilter(pattern=compile_pattern("two")))]
    assert [("old two" in t, "new two" in t) for t in grep] == [(True, False), (False, True)]


def test_follow_reads_new_lines_across_rotation_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "platform.log"
    path.write_text("already there\n")
    follower = Follower([path])
    try:
        assert follower.poll() == []  # starts at the end, like tail -F
        with path.open("a") as fh:
            fh.write("one\ntw")
        assert [line.text for line in follower.poll()] == ["one"]  # half a line waits
        with path.open("a") as fh:
            fh.write("o\nlast before rotation\n")
        path.rename(tmp_path / "platform.log.1")  # rotated
        assert [line.text for line in follower.poll()] == ["two", "last before rotation"]
        path.write_text("after rotation\n")
        assert [line.text for line in follower.poll()] == ["after rotation"]
        with path.open("a") as fh:
            fh.write("then more\n")
        path.write_text("")  # truncated in place (copytruncate)
        assert follower.poll() == []
        with path.open("a") as fh:
            fh.write("after truncation, a longer line than before\n")
        assert [line.text for line in follower.poll()] == [
            "after truncation, a longer line than before"]
    finally:
        follower.close()
