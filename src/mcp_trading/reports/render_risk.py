"""The daily risk report's two human renderings: rich tables (terminal text) and one
self-contained HTML page with inline SVG bar charts (exposure by symbol, VaR by method; no
script, no CDN; viewable offline).

Both render the JSON document (`reports.risk.risk_document`) and nothing else, so the three
forms always agree.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from mcp_trading.analytics.svg import bar_chart
from mcp_trading.reports.render import (
    Section,
    local_time,
    page_html,
    section_tables,
    tables_text,
)
from mcp_trading.reports.render import pct as _pct

__all__ = ["risk_html", "risk_sections", "risk_tables", "risk_text"]


def _var_rows(acc: dict[str, Any]) -> list[list[str]]:
    return [[f["method"], f"{f['confidence']:.0%}", str(f["horizon_days"]), f["var"], f["es"],
             _pct(f["var_pct_equity"]), _pct(f["es_pct_equity"])]
            for f in acc["var"]["figures"]]


def _stress_rows(acc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for s in acc["stress"]:
        span = f"{s.get('start') or '-'}..{s.get('end') or '-'}" if "start" in s else ""
        rows.append([s["name"], s["kind"], span, s["loss"], _pct(s["loss_pct_equity"]),
                     s.get("note", "")])
    return rows


def _account_sections(acc: dict[str, Any]) -> list[Section]:
    who = acc["account_id"]
    window = acc["var"]["window"]
    var_title = f"{who}: VaR / ES" + (f" (window {window['days']} returns, {window['first']}"
                                      f"..{window['last']})" if window else "")
    c = acc["concentration"]
    return [
        (f"{who}: exposure by symbol (equity {acc['equity']}, gross {acc['gross_exposure']}, "
         f"net {acc['net_exposure']})",
         ("symbol", "qty", "mark", "mark source", "market value", "of equity", "of gross"),
         [[e["symbol"], e["qty"], e["mark"] or "-", e["mark_source"], e["market_value"] or "-",
           _pct(e["weight_of_equity"]), _pct(e["share_of_gross"])] for e in acc["exposure"]]),
        (var_title, ("method", "confidence", "horizon (days)", "VaR", "ES", "VaR/equity",
                     "ES/equity"), _var_rows(acc)),
        (f"{who}: stress scenarios", ("scenario", "kind", "dates", "loss", "loss/equity",
                                      "note"), _stress_rows(acc)),
        (f"{who}: limit utilisation", ("limit", "value", "limit", "used"),
         [[name, u["value"], u["limit"] or "not set", "-" if u["pct"] is None else
           f"{u['pct']}%"] for name, u in acc["limit_utilisation"].items()]),
        (f"{who}: concentration (HHI {c['hhi']}, effective names {c['effective_names']})",
         ("symbol", "market value", "of equity"),
         [[r["symbol"], r["market_value"], _pct(r["weight_of_equity"])] for r in c["largest"]]),
        (f"{who}: excluded positions", ("symbol", "reason"),
         [[e["symbol"], e["reason"]] for e in acc["excluded"]]),
    ]


def risk_sections(doc: dict[str, Any]) -> list[Section]:
    """(title, header, rows) of every table, shared by the text and the HTML."""
    out: list[Section] = []
    for acc in doc["accounts"]:
        out += _account_sections(acc)
    out.append(("Risk refusals of the day, by code", ("code", "limit", "count", "accounts",
                                                      "symbols", "example"),
                [[b["code"], b["limit"], str(b["count"]), ", ".join(b["accounts"]),
                  ", ".join(b["symbols"]), b["examples"][0] if b["examples"] else ""]
                 for b in doc["breaches"]]))
    out.append(("Trading-state changes of the day", ("time", "scope", "state", "reason",
                                                     "actor"),
                [[local_time(c["ts_ns"], doc["timezone"]), c["scope"], c["state"], c["reason"],
                  c["actor"]] for c in doc["state_changes"]]))
    return out


def _title(doc: dict[str, Any]) -> str:
    return f"Daily risk report {doc['date']}"


def risk_tables(doc: dict[str, Any]) -> list[Table]:
    """The rich tables of the report (empty sections are left out)."""
    return section_tables(risk_sections(doc))


def risk_text(doc: dict[str, Any], *, width: int = 140) -> str:
    """The terminal rendering as plain text (what the .txt file holds)."""
    return tables_text(_title(doc) + f" — {doc['timezone']} — {doc['summary']}",
                       risk_tables(doc), doc["notes"], width=width)


def _charts(acc: dict[str, Any]) -> list[str]:
    who = acc["account_id"]
    out = []
    exposure = [(e["symbol"], float(e["market_value"])) for e in acc["exposure"]
                if e["market_value"] is not None]
    if exposure:
        out.append(bar_chart(exposure, title=f"{who}: exposure by symbol (signed market value)",
                             x_label="currency", css_class="chart exposure"))
    figures = [(f"{f['method']} {f['confidence']:.0%} {f['horizon_days']}d", float(f["var"]))
               for f in acc["var"]["figures"]]
    if figures:
        out.append(bar_chart(figures, title=f"{who}: VaR by method, confidence and horizon",
                             x_label="loss (currency)", css_class="chart var"))
    return out


def risk_html(doc: dict[str, Any]) -> str:
    """One self-contained HTML page: the charts, the tables, the definitions."""
    charts = [chart for acc in doc["accounts"] for chart in _charts(acc)]
    return page_html(_title(doc), f"{doc['summary']} — day in {doc['timezone']}; positions as "
                     "at its end.", charts=charts, sections=risk_sections(doc),
                     definitions=doc["definitions"], notes=doc["notes"])
