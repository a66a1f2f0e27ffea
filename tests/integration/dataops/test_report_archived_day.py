"""The daily trading report of a day whose journal was archived says so (its events are in
the segments, not in the hot journal the report folds); a day after the horizon does not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.integration.dataops.trading_days import day_ns, trade_days

from mcp_trading.config import Settings
from mcp_trading.dataops.archive import archive
from mcp_trading.reports.trading_source import read_day


def test_a_report_of_an_archived_day_says_so(tmp_path: Path) -> None:
    trade_days(tmp_path, days=8)  # 2024-01-02 .. 2024-01-09
    settings = Settings(data_dir=tmp_path)
    url = settings.resolved_database_url
    assert not [n for n in read_day(url, date(2024, 1, 3)).notes if "archived" in n]
    assert archive(settings, day_ns("2024-01-07")).journal["segments"]
    old = read_day(url, date(2024, 1, 3))
    recent = read_day(url, date(2024, 1, 9))
    assert any("journal before 2024-01-07 was archived" in n for n in old.notes), old.notes
    assert not [n for n in recent.notes if "archived" in n]
    assert recent.fills  # the hot days still report in full


def test_the_risk_day_of_an_archived_day_says_so(tmp_path: Path) -> None:
    from mcp_trading.reports.risk_source import read_risk_day

    trade_days(tmp_path, days=8)
    settings = Settings(data_dir=tmp_path)
    url = settings.resolved_database_url
    assert archive(settings, day_ns("2024-01-07")).journal["segments"]
    old = read_risk_day(url, date(2024, 1, 3))
    assert any("journal before 2024-01-07 was archived" in n for n in old.notes), old.notes
    assert not read_risk_day(url, date(2024, 1, 9)).notes
