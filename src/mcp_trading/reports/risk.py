"""The daily risk report, end to end: every account's positions at the end of the day (read
offline from the store), their real daily history (the history store, up to that day), and
the risk service's own figures on them — VaR/ES (`var_of`), stress (`stress_of`),
concentration (`concentration_of`), limit utilisation — plus the day's risk refusals.

    report = build_risk_report(settings, day)          read + compute + render
    publish(settings, report)                          (reports.daily.publish)
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from typing import Any

from mcp_trading.adapters.history.factory import open_history_store
from mcp_trading.config import Settings
from mcp_trading.domain.accounts import Account
from mcp_trading.reports.render_risk import risk_html, risk_text
from mcp_trading.reports.risk_source import LIMIT_OF_CODE, RiskDay, read_risk_day
from mcp_trading.reports.store import Report, platform_store_url
from mcp_trading.reports.trading_source import TIMEZONE
from mcp_trading.services.risk.analytics import (
    DEFINITIONS,
    concentration_of,
    money_of,
    ratio_of,
    var_of,
)
from mcp_trading.services.risk.prices import Book, History, book_of, read_history
from mcp_trading.services.risk.queries import VarQuery, parse_var_query
from mcp_trading.services.risk.stress import SCENARIOS_FILE, load_scenarios, stress_of

__all__ = ["REPORT_NAME", "build_risk_report", "history_until", "risk_document"]

REPORT_NAME = "daily_risk"

_MORE_DEFINITIONS = {
    "positions": "every account's positions at the end of the day: the journal folded up to "
                 "the day's end (New York), marked at the platform's last bar close before "
                 "then, else the symbol's last fill price (mark_source says which)",
    "history": "each symbol's real daily history (never the simulator's) up to the report's "
               "day: a report of a past day uses the window that ended that day",
    "breaches": "orders refused that day by a risk limit (codes RISK_*, and TRADING_REDUCING / "
                "TRADING_HALTED: the state a loss limit moved the account to), grouped by code",
    "utilisation": "value / limit in percent, at the end of the day (as GET :8012/exposures)",
}


def history_until(history: History, end_ns: int) -> History:
    """`history` without the bars at or after `end_ns` (a symbol left with < 2 is excluded)."""
    out = History({}, {}, {}, list(history.excluded))
    for symbol, (ts, close) in history.series.items():
        keep = ts < end_ns
        if int(keep.sum()) < 2:
            out.excluded.append({"symbol": symbol, "reason": "fewer than 2 stored daily closes "
                                                             "before the report's day ends"})
            continue
        out.series[symbol] = (ts[keep], close[keep])
        out.sources[symbol] = history.sources[symbol]
        out.adjusted[symbol] = history.adjusted[symbol]
    return out


def _exposure(account: Account, book: Book, marks: dict[str, str]) -> list[dict[str, Any]]:
    gross = sum(abs(v) for v in book.values.values())
    rows = []
    for p in sorted(account.positions.values(), key=lambda p: p.symbol):
        if not p.qty:
            continue
        value = book.values.get(p.symbol)
        rows.append({"symbol": p.symbol, "qty": str(p.qty),
                     "mark": None if p.mark is None else str(p.mark),
                     "mark_source": marks.get(p.symbol, "none") if p.mark is not None else "none",
                     "market_value": None if value is None else money_of(value),
                     "weight_of_equity": None if value is None else ratio_of(value, book.equity),
                     "share_of_gross": None if value is None or gross <= 0
                     else round(abs(value) / gross, 6)})
    return rows


def _account_section(account: Account, history: History, query: VarQuery, day: RiskDay,
                     scenarios: tuple[list[Any], str]) -> dict[str, Any]:
    book = book_of(account)
    var = var_of(book, history, query, account)
    stress = stress_of(book, history, scenarios[0], query.window, origin=scenarios[1])
    conc = concentration_of(book)
    values = book.values.values()
    return {
        "account_id": account.id, "equity": money_of(book.equity),
        "gross_exposure": money_of(sum(abs(v) for v in values)),
        "net_exposure": money_of(sum(values)),
        "exposure": _exposure(account, book, day.mark_sources),
        "excluded": var["excluded"], "included": var["included"],
        "var": {"window": var["window"], "figures": var["figures"],
                **({"note": var["note"]} if "note" in var else {})},
        "limit_utilisation": var.get("limit_utilisation", {}),
        "stress": stress["scenarios"], "scenarios_from": stress["scenarios_from"],
        "concentration": {k: conc[k] for k in ("largest", "hhi", "effective_names",
                                               "positions")},
    }


def _breaches(day: RiskDay) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in day.refusals:
        groups[r.code].append(r)
    return [{"code": code, "limit": LIMIT_OF_CODE.get(code, code.lower()), "count": len(rows),
             "accounts": sorted({r.account_id for r in rows}),
             "symbols": sorted({r.symbol for r in rows}),
             "first_ns": min(r.ts for r in rows), "last_ns": max(r.ts for r in rows),
             "examples": [r.reason for r in rows[:3]]}
            for code, rows in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _summary(sections: list[dict[str, Any]], breaches: list[dict[str, Any]]) -> str:
    if not sections:
        head = "no open positions at the end of the day"
    else:
        head = f"{sum(len(s['exposure']) for s in sections)} position(s) in " \
               f"{len(sections)} account(s)"
    refused = sum(b["count"] for b in breaches)
    return head + (f"; {refused} risk refusal(s)" if refused else "; no risk refusal")


def risk_document(day: RiskDay, histories: dict[str, History], query: VarQuery,
                  scenarios: tuple[list[Any], str], *, generated_ns: int) -> dict[str, Any]:
    """The JSON document (schema `daily_risk`) of `day`, from already-read inputs."""
    sections = [_account_section(a, histories[a.id], query, day, scenarios)
                for a in day.accounts if any(p.qty for p in a.positions.values())]
    breaches = _breaches(day)
    notes = list(day.notes)
    if any(s["excluded"] for s in sections):
        notes.append("some positions are left out of the history-based figures (VaR/ES, "
                     "historical stress): named under each account's `excluded`")
    return {
        "report": REPORT_NAME, "schema_version": 1, "date": day.day, "timezone": TIMEZONE,
        "window": {"start_ns": day.start_ns, "end_ns": day.end_ns},
        "generated_ns": generated_ns, "activity": bool(sections or breaches),
        "summary": _summary(sections, breaches),
        "query": {"confidence": list(query.confidences), "horizon": list(query.horizons),
                  "method": list(query.methods), "window": query.window},
        "accounts": sections, "breaches": breaches,
        "state_changes": [{"ts_ns": c.ts, "scope": c.scope, "state": c.state,
                           "reason": c.reason, "actor": c.actor} for c in day.state_changes],
        "definitions": {**DEFINITIONS, **_MORE_DEFINITIONS}, "notes": notes,
    }


def _histories(settings: Settings, day: RiskDay) -> dict[str, History]:
    store = open_history_store(settings.resolved_history_url)
    try:
        out = {}
        for account in day.accounts:
            symbols = sorted(p.symbol for p in account.positions.values()
                             if p.qty and p.mark is not None)
            out[account.id] = history_until(read_history(store, symbols), day.end_ns)
        return out
    finally:
        store.close()


def build_risk_report(settings: Settings, day: date) -> Report:
    """The risk report of `day` (a date already checked by `parse_day`)."""
    url = platform_store_url(settings)
    scenarios = load_scenarios(settings.data_dir / SCENARIOS_FILE)
    risk_day = read_risk_day(url, day)
    doc = risk_document(risk_day, _histories(settings, risk_day), parse_var_query(), scenarios,
                        generated_ns=time.time_ns())
    return Report(REPORT_NAME, day.isoformat(), doc, risk_text(doc), risk_html(doc))
