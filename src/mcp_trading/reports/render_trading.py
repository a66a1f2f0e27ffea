"""The daily trading report's two human renderings: rich tables (terminal text) and one
self-contained HTML page with inline SVG charts (no script, no CDN; viewable offline).

Both render the JSON document (`analytics.trading_day.trading_report`) and nothing else, so
the three forms always agree.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from mcp_trading.analytics.svg import Series, line_chart
from mcp_trading.reports.render import (
    Section,
    local_time,
    page_html,
    section_tables,
    tables_text,
)

__all__ = ["trading_html", "trading_tables", "trading_text"]

_PNL_HEAD = ("account", "symbol", "fills", "bought", "sold", "realised", "commissions",
             "net realised", "end qty", "mark", "unrealised", "slippage", "slip bps")


def _pnl_rows(doc: dict[str, Any]) -> list[list[str]]:
    return [[r["account_id"], r["symbol"], str(r["fills"]), r["bought_qty"], r["sold_qty"],
             r["realized_pnl"], r["commissions"], r["net_realized_pnl"], r["end_qty"],
             r["mark"] or "-", r["unrealized_pnl"], r["slippage"], r["slippage_bps"] or "-"]
            for r in doc["pnl_by_symbol"]]


def _sections(doc: dict[str, Any]) -> list[Section]:
    """(title, header, rows) of every table, shared by the text and the HTML."""
    tz = doc["timezone"]
    t = doc["totals"]
    totals = [["orders", str(doc["orders"]["total"])], ["fills", str(t["fills"])],
              ["filled notional", t["notional"]], ["realised P&L", t["realized_pnl"]],
              ["commissions", t["commissions"]], ["net realised P&L", t["net_realized_pnl"]],
              ["unrealised P&L (end of day)", t["unrealized_pnl"]],
              ["slippage vs arrival mid", t["slippage"]],
              ["slippage (bps)", t["slippage_bps"] or "-"],
              ["fills without an arrival mid", str(t["fills_without_mid"])]]
    return [
        ("Totals", ("figure", "value"), totals),
        ("Orders by status", ("status", "orders"),
         [[k, str(v)] for k, v in doc["orders"]["by_status"].items()]),
        ("P&L by symbol", _PNL_HEAD, _pnl_rows(doc)),
        ("Rejections by reason code", ("code", "count", "symbols", "example"),
         [[r["code"], str(r["count"]), ", ".join(r["symbols"]),
           r["examples"][0] if r["examples"] else ""] for r in doc["rejections"]]),
        ("Halts and trading-state changes", ("time", "scope", "state", "reason", "actor"),
         [[local_time(h["ts_ns"], tz), h["scope"], h["state"], h["reason"], h["actor"]]
          for h in doc["halts"]]),
        ("Maintenance windows", ("start", "end", "reason", "ended by"),
         [[local_time(w["start_ns"], tz), local_time(w["end_ns"], tz) if w["end_ns"] else "still on",
           w["reason"], w["ended_by"] or "-"] for w in doc["maintenance_windows"]]),
        ("Strategies and agents that traded", ("attribution", "kind", "orders", "fills",
                                               "notional"),
         [[r["attribution"], r["kind"], str(r["orders"]), str(r["fills"]), r["notional"]]
          for r in doc["traders"]]),
    ]


def _title(doc: dict[str, Any]) -> str:
    day = doc["date"] + ("" if doc["trading_day"] else " (not an NYSE session)")
    return f"Daily trading report {day}"


def trading_tables(doc: dict[str, Any]) -> list[Table]:
    """The rich tables of the report (empty sections are left out)."""
    return section_tables(_sections(doc))


def trading_text(doc: dict[str, Any], *, width: int = 140) -> str:
    """The terminal rendering as plain text (what the .txt file holds)."""
    return tables_text(_title(doc) + f" — {doc['timezone']} — {doc['summary']}",
                       trading_tables(doc) if doc["activity"] else [], doc["notes"],
                       width=width)


def _charts(doc: dict[str, Any]) -> list[str]:
    curve = doc["intraday"]
    if not curve["ts_ns"]:
        return []
    ts = curve["ts_ns"]
    pnl = line_chart([Series("net realised P&L", ts, [float(v) for v in curve["net_realized_pnl"]]),
                      Series("slippage (cost)", ts, [float(v) for v in curve["slippage"]])],
                     title="Cumulative net realised P&L and slippage through the day",
                     y_label="currency", y_format=lambda v: f"{v:,.2f}", css_class="chart pnl")
    notional = line_chart([Series("filled notional", ts, [float(v) for v in curve["notional"]])],
                          title="Cumulative filled notional through the day",
                          y_label="currency", css_class="chart notional")
    return [pnl, notional]


def trading_html(doc: dict[str, Any]) -> str:
    """One self-contained HTML page: the tables, the intraday charts, the definitions."""
    return page_html(_title(doc), f"{doc['summary']} — day in {doc['timezone']}; times are "
                     "local to it, chart axes UTC.", charts=_charts(doc),
                     sections=_sections(doc) if doc["activity"] else [],
                     definitions=doc["definitions"], notes=doc["notes"])
