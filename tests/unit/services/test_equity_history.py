"""Equity history pieces without a platform: `since` parsing (durations, dates, times, each
refusal naming the field), the sampler's rows (customer accounts only, exact), and the
settings' bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from mcp_trading.config import Settings
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import InvalidError
from mcp_trading.services.portfolio.equity import parse_since
from mcp_trading.services.portfolio.sampler import sample_rows

NS = 1_000_000_000
NOW = int(datetime(2026, 12, 3, 15, 0, tzinfo=UTC).timestamp()) * NS


@pytest.mark.parametrize(("text", "back_s"), [("90m", 5400), ("12h", 43_200), ("7d", 604_800),
                                              ("2w", 1_209_600), ("30s", 30), (" 7D ", 604_800)])
def test_a_duration_counts_back_from_now(text: str, back_s: int) -> None:
    assert parse_since(text, now_ns=NOW) == NOW - back_s * NS


def test_a_date_is_midnight_in_new_york_and_a_time_is_exact() -> None:
    midnight_ny = int(datetime(2026, 12, 1, 5, 0, tzinfo=UTC).timestamp()) * NS  # EST
    assert parse_since("2026-12-01", now_ns=NOW) == midnight_ny
    assert parse_since("2026-12-01T14:30:00Z", now_ns=NOW) == int(
        datetime(2026, 12, 1, 14, 30, tzinfo=UTC).timestamp()) * NS
    assert parse_since(None, now_ns=NOW) is None and parse_since(" ", now_ns=NOW) is None


@pytest.mark.parametrize("text", ["0d", "yesterday", "7 days", "2026-02-30", "-3d",
                                  "99999w", "1y"])
def test_bad_since_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidError) as caught:
        parse_since(text, now_ns=NOW)
    assert caught.value.field == "since"
    assert "since" in str(caught.value)


def test_sample_rows_leave_internal_accounts_out() -> None:
    paper = Account("paper", Decimal("1000.25"))
    paper.position_value = Decimal("12.125")
    rows = sample_rows([paper, Account("_selftest", Decimal(1), internal=True),
                        Account("_other", Decimal(1))], 7)
    assert [(r.ts, r.account_id, r.equity, r.cash) for r in rows] == [
        (7, "paper", Decimal("1012.375"), Decimal("1000.25"))]


@pytest.mark.parametrize("value", [0.5, 3601, -1])
def test_the_sample_interval_is_bounded(value: float) -> None:
    with pytest.raises(ValidationError, match="equity_sample_s"):
        Settings(equity_sample_s=value)


def test_the_sample_settings_defaults_and_off() -> None:
    s = Settings()
    assert (s.equity_sample_s, s.equity_sample_keep_days) == (60.0, 30)
    assert Settings(equity_sample_s=0).equity_sample_s == 0
    with pytest.raises(ValidationError, match="equity_sample_keep_days"):
        Settings(equity_sample_keep_days=0)


def test_the_snapshot_log_reads_only_what_was_appended_since() -> None:
    from mcp_trading.domain.events import EquitySnapshotted, TradingDayStarted
    from mcp_trading.kernel import codec
    from mcp_trading.kernel.ports import JournalRecord
    from mcp_trading.services.portfolio.equity import SnapshotLog

    def snap(equity: str, ts: int) -> EquitySnapshotted:
        return EquitySnapshotted("paper", "2026-12-01", Decimal(equity), Decimal(equity), (),
                                 "manual", "t", ts)

    journal: list[JournalRecord] = [
        codec.segment_of(1, [TradingDayStarted("2026-12-01", 0, 1, {}, 1), snap("1", 2)])]
    asked: list[int] = []

    def records(after: int) -> list[JournalRecord]:
        asked.append(after)
        return [r for r in journal if r.seq > after]

    log = SnapshotLog(records)
    assert [s.equity for s in log.snapshots()] == [Decimal(1)]
    journal.append(codec.record(3, snap("2", 3)))
    journal.append(codec.segment_of(4, [snap("3", 4), TradingDayStarted("d", 0, 1, {}, 5)]))
    assert [s.equity for s in log.snapshots()] == [Decimal(1), Decimal(2), Decimal(3)]
    assert [s.equity for s in log.snapshots()] == [Decimal(1), Decimal(2), Decimal(3)]
    assert asked == [0, 2, 5]
