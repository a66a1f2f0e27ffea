"""What the faces show of a stored backtest: its record, trades, equity, the HTML reports.

Framework-free and shared by REST, MCP and the CLI, so `GET /backtests/{id}`, the
`get_backtest` tool and `mcp-trading backtests show` answer the same JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp_trading.analytics.report import compare_report, report_html
from mcp_trading.analytics.run import RunReport
from mcp_trading.analytics.text import summary_rows
from mcp_trading.backtest.result import BacktestResult

__all__ = ["backtest_view", "compare_html", "compare_view", "equity_view", "report_of",
           "run_html", "summary_rows_of", "trades_view"]

MAX_COMPARE = 10  # runs in one comparison


def report_of(result: BacktestResult) -> RunReport:
    """The run as the analytics reports show it."""
    return result.report()


def backtest_view(result: BacktestResult) -> dict[str, Any]:
    """A stored run: status done, its summary and every metric (with their basis)."""
    return {"id": result.id, "status": "done", "summary": result.summary(),
            "metrics": result.metrics.as_dict(),
            "warnings": list(result.warnings), "fault": result.fault,
            "data_range": [r.as_dict() for r in result.data_range],
            "spec": result.spec.as_dict(), "fill_rules": result.fill_rules,
            "strategy_source_hash": result.strategy_source_hash,
            "platform_version": result.platform_version}


def trades_view(result: BacktestResult, *, limit: int, offset: int) -> dict[str, Any]:
    """The round-trip trades, oldest first, a page of them."""
    trades = result.trades
    page = [t.as_dict() for t in trades[offset:offset + limit]]
    return {"id": result.id, "trades": page, "count": len(trades), "offset": offset,
            "limit": limit}


def equity_view(result: BacktestResult) -> dict[str, Any]:
    """The daily equity curve with cash and exposure (one row per trading day)."""
    curve = result.equity
    return {"id": result.id, "initial": curve.initial, "equity": curve.rows()}


def run_html(result: BacktestResult) -> str:
    return report_html(report_of(result))


def compare_view(results: Sequence[BacktestResult]) -> dict[str, Any]:
    """The runs side by side: each one's summary and metrics."""
    return {"ids": [r.id for r in results],
            "runs": [{"id": r.id, "summary": r.summary(), "metrics": r.metrics.as_dict()}
                     for r in results]}


def compare_html(results: Sequence[BacktestResult]) -> str:
    return compare_report([report_of(r) for r in results],
                          title=f"Comparison of {len(results)} backtests")


def summary_rows_of(result: BacktestResult) -> list[tuple[str, str]]:
    """(label, value) rows for a summary table (the CLI)."""
    return summary_rows(report_of(result))
