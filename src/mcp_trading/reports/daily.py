"""The daily trading report, end to end: read the day from the store, compute, render, and
write it (files and the `reports` table).

    report = build_trading_report(settings, day)      read + compute + render
    paths = publish(settings, report)                 files under the data dir + the table
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from mcp_trading.analytics.trading_day import REPORT_NAME, trading_report
from mcp_trading.config import Settings
from mcp_trading.reports.render_trading import trading_html, trading_text
from mcp_trading.reports.store import Report, ReportStore, platform_store_url, write_files
from mcp_trading.reports.trading_source import read_day

__all__ = ["build_trading_report", "publish"]


def build_trading_report(settings: Settings, day: date) -> Report:
    """The report of `day` (a date already checked by `parse_day`)."""
    url = platform_store_url(settings)
    rows = read_day(url, day)
    doc = trading_report(rows, generated_ns=time.time_ns())
    return Report(REPORT_NAME, day.isoformat(), doc, trading_text(doc), trading_html(doc))


def publish(settings: Settings, report: Report, *, html_to: Path | None = None
            ) -> dict[str, Path]:
    """Write the report's files and its row; `html_to` also writes the page there."""
    paths = write_files(settings.data_dir, report)
    store = ReportStore(settings.resolved_database_url, migrate=True)
    try:
        store.save(report, time.time_ns())
    finally:
        store.close()
    if html_to is not None:
        html_to.parent.mkdir(parents=True, exist_ok=True)
        html_to.write_text(report.html, encoding="utf-8")
        paths["html"] = html_to
    return paths
