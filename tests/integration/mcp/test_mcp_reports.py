"""The stored end-of-day reports over MCP: list_reports, get_report and the daily briefing
that quotes the newest day's reports (and says why when it cannot)."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.mcp.conftest import MakeKey, call, connect, mcp_app, run, tool_map

from mcp_trading.platform.platform import Platform
from mcp_trading.reports.store import Report, ReportStore
from mcp_trading.services.portfolio.reports_mcp import BRIEFING_REPORT_CHARS


def _store(platform: Platform, day: str, name: str, text: str) -> None:
    store = ReportStore(platform.settings.resolved_database_url)
    try:
        store.save(Report(name, day, {"generated_ns": 1, "summary": {"day": day}}, text,
                          "<html></html>"), created_ns=1)
    finally:
        store.close()


async def _briefing(platform: Platform, key: str) -> str:
    async with connect(mcp_app(platform, "portfolio"), key) as client:
        got = await client.get_prompt("daily_briefing", {})
        return got.messages[0].content.text  # type: ignore[union-attr]


def test_the_briefing_says_when_no_report_is_stored(platform: Platform,
                                                    make_key: MakeKey) -> None:
    text = asyncio.run(_briefing(platform, make_key("viewer")))
    assert "no end-of-day report is stored yet" in text
    assert "portfolio_summary" in text


def test_the_briefing_quotes_the_newest_days_reports_in_eod_order(
        platform: Platform, make_key: MakeKey) -> None:
    _store(platform, "2026-11-30", "daily_trading", "OLD DAY TRADING")
    _store(platform, "2026-12-01", "performance_summary", "PERF: day +0.42 %")
    _store(platform, "2026-12-01", "daily_trading", "TRADING: 12 fills, 1 rejection")
    _store(platform, "2026-12-01", "daily_risk", "R" * (BRIEFING_REPORT_CHARS + 50))
    text = asyncio.run(_briefing(platform, make_key("viewer")))
    assert "of 2026-12-01" in text and "OLD DAY TRADING" not in text
    trading = text.index("TRADING: 12 fills")
    risk = text.index("<report name='daily_risk'")
    perf = text.index("PERF: day +0.42 %")
    assert trading < risk < perf  # the EOD procedure's order
    assert "R" * (BRIEFING_REPORT_CHARS + 1) not in text
    assert "get_report(date='2026-12-01', name='daily_risk') has the rest" in text


def test_an_account_bound_key_gets_the_plan_and_the_reason(platform: Platform,
                                                           make_key: MakeKey) -> None:
    _store(platform, "2026-12-01", "daily_trading", "TRADING: every account")
    text = asyncio.run(_briefing(platform, make_key("trader", "paper")))
    assert "TRADING: every account" not in text  # the reports cover other accounts too
    assert "not readable with this key" in text and "--all-accounts" in text
    assert "portfolio_positions" in text


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_list_and_get_report_tools(platform: Platform, make_key: MakeKey, fmt: str) -> None:
    _store(platform, "2026-12-01", "daily_trading", "TRADING: 12 fills")

    async def body() -> None:
        async with connect(mcp_app(platform, "portfolio"), make_key("viewer")) as client:
            tools = await tool_map(client)
            listed = await call(client, tools, "list_reports", {})
            assert not listed.is_error, listed.structured_content
            (row,) = (listed.structured_content or {})["reports"]
            assert (row["date"], row["name"]) == ("2026-12-01", "daily_trading")
            got = await call(client, tools, "get_report",
                             {"date": "2026-12-01", "name": "daily_trading", "format": fmt})
            assert not got.is_error, got.structured_content
            body = (got.structured_content or {})["text"]
            assert ("TRADING: 12 fills" in body) if fmt == "txt" else ('"day"' in body)
            missing = await call(client, tools, "get_report",
                                 {"date": "2026-12-02", "name": "daily_trading"})
            assert missing.is_error
            assert "no report 'daily_trading' for 2026-12-02" in (
                missing.structured_content or {})["message"]
            bad = await call(client, tools, "get_report",
                             {"date": "12/01/2026", "name": "daily_trading"})
            assert bad.is_error and (bad.structured_content or {})["field"] == "date"

    run(body())
