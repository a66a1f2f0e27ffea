"""The performance summary's two human renderings: rich tables (terminal text) and one
self-contained HTML page with inline SVG charts — the equity curve against the benchmark's
buy-and-hold, the drawdown, the daily P&L and the exposure (no script, no CDN; offline).

Both render the JSON document (`reports.performance.performance_document`) and nothing else,
so the three forms always agree.
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from mcp_trading.analytics.run import format_metric
from mcp_trading.analytics.svg import Series, column_chart, line_chart
from mcp_trading.reports.performance_source import noon_ns
from mcp_trading.reports.render import Section, page_html, pct, section_tables, tables_text

__all__ = ["METRIC_ROWS", "performance_charts", "performance_html", "performance_sections",
           "performance_tables",
           "performance_text"]

#: (metrics key, label, format) in the order the tables list them
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("start", "From", "str"), ("end", "To", "str"), ("returns", "Daily returns", "int"),
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"),
    ("annual_volatility", "Annualised volatility", "pct"), ("sharpe", "Sharpe ratio", "ratio"),
    ("sortino", "Sortino ratio", "ratio"), ("calmar", "Calmar ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_duration_days", "Max drawdown duration (trading days)", "int"),
    ("max_drawdown_recovered", "Max drawdown recovered", "bool"),
    ("best_day", "Best day", "pct"), ("worst_day", "Worst day", "pct"),
    ("winning_days", "Winning days", "pct"), ("exposure_time", "Days with a position", "pct"),
    ("exposure_average", "Average gross exposure / equity", "pct"),
    ("beta", "Beta to the benchmark", "ratio"), ("correlation", "Correlation", "ratio"),
    ("common_days", "Days in common with the benchmark", "int"),
)
_PERIODS = {"day": "day", "mtd": "MTD", "ytd": "YTD", "inception": "inception",
            "since": "since"}


def _books(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The totals first (when there are several accounts), then each account."""
    accounts: list[dict[str, Any]] = doc["accounts"]
    if doc["totals"] is not None and len(accounts) > 1:
        return [doc["totals"], *accounts]
    return accounts


def _period_rows(book: dict[str, Any]) -> list[list[str]]:
    return [[book["account_id"], _PERIODS[p["period"]] + (f" {p['start']}" if p["period"]
                                                          == "since" else ""),
             p["base_day"] or "-", p["end_day"] or "-", str(p["days"]), pct(p["return"]),
             p["pnl"] or "-", pct(p["benchmark_return"]), pct(p["excess_return"])]
            for p in book["periods"]]


def _metric(value: object, kind: str) -> str:
    if kind == "str":
        return "-" if value is None else str(value)
    if kind == "int":
        return "n/a" if value is None else f"{value:,}"
    return format_metric(value, kind)


def performance_sections(doc: dict[str, Any]) -> list[Section]:
    """(title, header, rows) of every table, shared by the text and the HTML."""
    books = _books(doc)
    bench = doc["benchmark"]
    symbol = bench["symbol"] or "-"
    accounts = [[a["account_id"], a["currency"], a["inception"]["date"],
                 a["inception"]["equity"] or "-", a["as_of"] or "-", a["equity"] or "-",
                 a["source"] or "-"] for a in doc["accounts"]]
    periods = [row for book in books for row in _period_rows(book)]
    metrics = [[label, *(_metric(b["metrics"].get(key), kind) for b in books)]
               for key, label, kind in METRIC_ROWS] if books else []
    facts = [["symbol", symbol], ["real daily history", "yes" if bench["available"] else
                                  f"no: {bench['reason']}"],
             ["source", bench["source"] or "-"],
             ["closes from", bench["first_day"] or "-"], ["closes to", bench["last_day"] or "-"]]
    return [
        ("Accounts", ("account", "currency", "inception", "inception equity", "as of",
                      "equity", "valued by"), accounts),
        (f"Returns (benchmark: buy-and-hold {symbol})",
         ("account", "period", "from", "to", "days", "return", "P&L", "benchmark", "excess"),
         periods),
        (f"Metrics (window {doc['window']['since'] or 'inception'}..{doc['window']['until']}, "
         f"risk-free rate {doc['risk_free_rate']:g}, {doc['annualisation_days']} days a year)",
         ("metric", *(b["account_id"] for b in books)), metrics),
        ("Benchmark", ("figure", "value"), facts if books else []),
    ]


def _title(doc: dict[str, Any]) -> str:
    return f"Performance summary {doc['date']}"


def performance_tables(doc: dict[str, Any]) -> list[Table]:
    """The rich tables of the report (empty sections are left out)."""
    return section_tables(performance_sections(doc))


def performance_text(doc: dict[str, Any], *, width: int = 140) -> str:
    """The terminal rendering as plain text (what the .txt file holds)."""
    return tables_text(_title(doc) + f" — {doc['timezone']} — {doc['summary']}",
                       performance_tables(doc), doc["notes"], width=width)


def _floats(values: list[Any], scale: float = 1.0) -> list[float]:
    return [math.nan if v is None else float(v) * scale for v in values]


def performance_charts(series: dict[str, Any] | None, symbol: str | None) -> list[str]:
    """Equity vs benchmark, drawdown, daily P&L, exposure (none without a point)."""
    if series is None or not series["dates"]:
        return []
    ts = [noon_ns(d) for d in series["dates"]]
    who = series["of"]
    lines = [Series(f"{who} equity", ts, _floats(series["equity"]))]
    if series["growth"] != series["equity"]:  # accounts joined: their cash is not a gain
        lines.append(Series("time-weighted growth", ts, _floats(series["growth"])))
    if any(v is not None for v in series["benchmark_equity"]):
        lines.append(Series(f"buy-and-hold {symbol}", ts,
                            _floats(series["benchmark_equity"])))
    money = lambda v: f"{v:,.0f}"  # noqa: E731
    return [
        line_chart(lines, title=f"{who}: equity at each day's close (benchmark from the same "
                                "start)", y_label="currency", y_format=money,
                   css_class="chart equity"),
        line_chart([Series("drawdown", ts, _floats(series["drawdown"], 100.0))],
                   title=f"{who}: drawdown from the running peak", y_label="%",
                   y_format=lambda v: f"{v:.1f}", css_class="chart drawdown"),
        column_chart(ts, _floats(series["pnl"]), labels=series["dates"],
                     title=f"{who}: daily P&L", y_label="currency",
                     y_format=lambda v: f"{v:,.2f}", css_class="chart pnl"),
        line_chart([Series("gross exposure", ts, _floats(series["gross_exposure"], 100.0)),
                    Series("net exposure", ts, _floats(series["net_exposure"], 100.0))],
                   title=f"{who}: exposure as % of equity", y_label="% of equity",
                   y_format=lambda v: f"{v:.0f}", css_class="chart exposure"),
    ]


def performance_html(doc: dict[str, Any]) -> str:
    """One self-contained HTML page: the charts, the tables, the definitions."""
    return page_html(_title(doc), f"{doc['summary']} — dates in {doc['timezone']}; chart axes "
                     "UTC.", charts=performance_charts(doc["series"], doc["benchmark"]["symbol"]),
                     sections=performance_sections(doc), definitions=doc["definitions"],
                     notes=doc["notes"])
