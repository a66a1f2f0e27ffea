"""The performance summary, end to end: each account's equity history (performance_source),
its returns for the day, month to date, year to date and since inception (New York dates),
the metrics of the one metrics module (`analytics.metrics`) over the window (inception, or
`--since`), the totals, and a benchmark's buy-and-hold over the same days.

    report = build_performance_report(settings, day, since=None, account=None, benchmark=None)
    publish(settings, report)                          (reports.daily.publish)
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from mcp_trading.adapters.history.factory import open_history_store
from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import (
    DEFINITIONS,
    RELATION_DEFINITIONS,
    benchmark_relation,
    compute_metrics,
)
from mcp_trading.analytics.report import drawdown_series
from mcp_trading.backtest.walkforward import add_duration, parse_duration
from mcp_trading.config import Settings
from mcp_trading.config_reports import DEFAULT_BENCHMARKS
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.reports.performance_book import Benchmark, Book, Period, book_of, period_of
from mcp_trading.reports.performance_source import AccountHistory, noon_ns, read_histories
from mcp_trading.reports.render_performance import performance_html, performance_text
from mcp_trading.reports.store import Report, platform_store_url
from mcp_trading.reports.trading_source import TIMEZONE
from mcp_trading.services.risk.prices import day_text as bar_day
from mcp_trading.services.risk.prices import read_history

__all__ = ["REPORT_NAME", "TOTAL", "build_performance_report", "parse_benchmark",
           "parse_since", "performance_document"]

REPORT_NAME = "performance_summary"
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,15}$")  # the universe's rule (feeds/universe.py)
TOTAL = "total"  # the name of the totals' book

_MORE_DEFINITIONS = {
    "equity history": "per account: its AccountOpened cash (inception), then the last "
                      "EquitySnapshotted of each trading day, a 'close' one preferred; today "
                      "without a snapshot: the journal folded at the report time",
    "periods": "day = the report's day against the previous point; mtd / ytd = since the last "
               "point before the month's / year's first day; inception = since the opening "
               "cash; since = since the last point before --since. Dates in America/New_York",
    "daily return": "time-weighted: (equity - cash of accounts joining that day) / previous "
                    "equity - 1; an account's own returns are plain equity ratios",
    "winning_days": "daily returns > 0 / daily returns (the window's)",
    "growth": "the window's start equity grown by the daily (time-weighted) returns: the "
              "equity without the cash of accounts that joined later; the metrics' series",
    "benchmark": "buy-and-hold of the symbol's real daily closes (never the simulator's bars; "
                 "adjusted for splits and dividends where the source gives factors) between "
                 "the same dates as the portfolio's return",
    "excess_return": "the period's return - the benchmark's over the same dates",
    "risk_free_rate": "annual, the setting MCP_TRADING_PERFORMANCE_RISK_FREE_RATE (default 0), "
                      "daily (1 + rate)^(1/252) - 1; annualisation 252 trading days",
}


def parse_benchmark(text: str) -> str:
    """`--benchmark`: a symbol (upper-cased); InvalidError when it cannot be one."""
    symbol = text.strip().upper()
    if not _SYMBOL.match(symbol):
        raise InvalidError(f"benchmark {text!r} is not a symbol: 1-16 letters, digits, '.', "
                           "'-' or '/', e.g. SPY", field="benchmark")
    return symbol


def parse_since(text: str, *, until: date) -> date:
    """`--since`: a date (YYYY-MM-DD, not after `until`) or a duration back from `until`
    (7d, 8w, 6m, 1y). InvalidError naming what was wrong otherwise."""
    raw = text.strip()
    if raw[:1].isdigit() and not raw[-1:].isalpha():
        try:
            since = date.fromisoformat(raw)
        except ValueError:
            raise InvalidError(f"since {text!r} is neither a date (YYYY-MM-DD) nor a duration "
                               "(7d, 8w, 6m, 1y)", field="since") from None
        if since > until:
            raise InvalidError(f"since {since} is after the report's day {until}; give an "
                               "earlier date or a duration such as 30d", field="since")
        return since
    count, unit = parse_duration(raw, "since")
    return add_duration(until, (-count, unit))


def _ratio(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.10g}")


def _money(x: float | None) -> str | None:
    return None if x is None else f"{x:.2f}"


def _period_row(p: Period, bench: Benchmark | None) -> dict[str, Any]:
    theirs = bench.change(p.base_day, p.end_day) if bench is not None else None
    return {"period": p.name, "start": p.start, "base_day": p.base_day, "end_day": p.end_day,
            "days": p.days, "return": _ratio(p.value), "pnl": _money(p.pnl),
            "start_equity": _money(p.start_equity), "end_equity": _money(p.end_equity),
            "benchmark_return": _ratio(theirs),
            "excess_return": None if theirs is None or p.value is None
            else _ratio(p.value - theirs)}


def _starts(day: date, since: date | None, base_day: str) -> list[tuple[str, str]]:
    out = [("day", day.isoformat()), ("mtd", day.replace(day=1).isoformat()),
           ("ytd", day.replace(month=1, day=1).isoformat()), ("inception", base_day)]
    return out + ([("since", since.isoformat())] if since is not None else [])


def _window(book: Book, since: date | None) -> list[int]:
    start = since.isoformat() if since is not None else book.base_day
    return [i for i, d in enumerate(book.days) if d >= start]


def _curve(book: Book, picked: list[int]) -> EquityCurve:
    """The window's wealth (flow-free: its start equity grown by the daily returns)."""
    first = picked[0] if picked else 0
    start = float(book.equity[first - 1]) if first else book.base
    r = book.returns[picked]
    wealth = (start * np.cumprod(1.0 + r)).astype(np.float64)
    equity = book.equity[picked]
    # the exposure as a share of the book's own equity, carried onto the wealth (which leaves
    # out the cash of accounts that joined later)
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = np.where(equity > 0, book.gross[picked] / equity * wealth, 0.0)
    return EquityCurve.of([noon_ns(book.days[i]) for i in picked], wealth, initial=start,
                          gross_exposure=gross)


def _metrics(book: Book, picked: list[int], rf: float, bench: Benchmark | None
             ) -> dict[str, Any]:
    curve = _curve(book, picked)
    metrics = compute_metrics(curve, risk_free_rate=rf).as_dict()
    r = book.returns[picked]
    metrics["winning_days"] = _ratio(float(np.mean(r > 0))) if r.size else None
    if bench is not None:
        ours, theirs = bench.daily_pairs(book, picked)
        metrics.update(benchmark_relation(ours, theirs))
    return metrics


def _book_section(book: Book, day: date, since: date | None, rf: float,
                  bench: Benchmark | None) -> dict[str, Any]:
    periods = [period_of(book, name, start, end=day.isoformat())
               for name, start in _starts(day, since, book.base_day)]
    last = len(book.days) - 1
    return {"account_id": book.name, "currency": book.currency,
            "inception": {"date": book.base_day, "equity": _money(book.base)},
            "as_of": book.days[last] if book.days else None,
            "equity": _money(float(book.equity[last])) if book.days else None,
            "source": book.sources[last] if book.days else None,
            "periods": [_period_row(p, bench) for p in periods],
            "metrics": _metrics(book, _window(book, since), rf, bench)}


def _series(book: Book, since: date | None, bench: Benchmark | None) -> dict[str, Any]:
    picked = _window(book, since)
    curve = _curve(book, picked)
    equity = book.equity[picked]
    start = float(book.equity[picked[0] - 1]) if picked and picked[0] else book.base
    base_close = None
    if bench is not None and picked:
        found = bench.close_by(book.days[picked[0] - 1] if picked[0] else book.base_day)
        base_close = found[1] if found else None
    marks = [None if base_close is None or bench is None or bench.close_on(book.days[i]) is None
             else round(start * bench.closes[book.days[i]] / base_close, 2) for i in picked]
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = np.where(equity > 0, book.gross[picked] / equity, np.nan)
        net = np.where(equity > 0, book.net[picked] / equity, np.nan)
    return {"of": book.name, "dates": [book.days[i] for i in picked],
            "start_equity": _money(start), "equity": [f"{v:.2f}" for v in equity],
            "growth": [f"{v:.2f}" for v in curve.equity],
            "benchmark_equity": marks,
            "drawdown": [_ratio(float(v)) for v in drawdown_series(curve)],
            "pnl": [f"{v:.2f}" for v in book.pnl[picked]],
            "gross_exposure": [_ratio(float(v)) if np.isfinite(v) else None for v in gross],
            "net_exposure": [_ratio(float(v)) if np.isfinite(v) else None for v in net]}


def _benchmark_info(symbol: str | None, bench: Benchmark | None, reason: str | None,
                    section: dict[str, Any] | None) -> dict[str, Any]:
    info: dict[str, Any] = {"symbol": symbol, "available": bench is not None, "reason": reason,
                            "source": bench.source if bench else None,
                            "first_day": min(bench.closes) if bench else None,
                            "last_day": max(bench.closes) if bench else None}
    m = section["metrics"] if section else {}
    info.update({"beta": m.get("beta"), "correlation": m.get("correlation"),
                 "common_days": m.get("common_days", 0)})
    return info


def _summary(books: list[dict[str, Any]], head: dict[str, Any] | None, bench: dict[str, Any]
             ) -> str:
    if not books:
        return "no accounts: nothing to measure yet"
    if head is None or head["as_of"] is None:
        return f"{len(books)} account(s), no equity snapshot yet: no returns to report"
    rows = {p["period"]: p["return"] for p in head["periods"]}
    parts = ", ".join(f"{name} {'-' if rows.get(name) is None else f'{rows[name]:+.2%}'}"
                      for name in ("day", "mtd", "ytd", "inception"))
    text = f"{len(books)} account(s), {head['account_id']} equity {head['equity']} " \
           f"{head['currency']} as of {head['as_of']}: {parts}"
    return text + ("" if bench["available"] else f"; no benchmark ({bench['reason']})")


def performance_document(histories: list[AccountHistory], day: date, *, since: date | None,
                         bench: tuple[str | None, Benchmark | None, str | None],
                         risk_free_rate: float, generated_ns: int,
                         notes: list[str]) -> dict[str, Any]:
    """The JSON document (schema `performance_summary`) from already-read inputs."""
    symbol, series, reason = bench
    books = [book_of(h.account_id, [h]) for h in histories]
    sections = [_book_section(b, day, since, risk_free_rate, series) for b in books]
    currencies = {h.currency for h in histories}
    totals = None
    if len(currencies) == 1:
        totals = _book_section(book_of(TOTAL, histories), day, since, risk_free_rate, series)
    elif histories:
        notes.append(f"accounts in {len(currencies)} currencies ({', '.join(sorted(currencies))}"
                     "): no totals; the charts show the first account")
    head = totals if totals is not None else (sections[0] if sections else None)
    head_book = book_of(TOTAL, histories) if totals is not None else (books[0] if books else None)
    info = _benchmark_info(symbol, series, reason, head)
    behind = [f"{s['account_id']} (last {s['as_of']})" for s in sections
              if s["as_of"] not in (None, day.isoformat())]
    if behind:
        notes.append(f"no snapshot on {day} of {', '.join(behind)}: their day return is null "
                     "and the other figures stop at their last snapshot")
    if any(s["source"] == "journal_fold" for s in sections):
        notes.append(f"no close snapshot for {day} yet: today is the journal's valuation at "
                     "the report time (positions marked at the last bar close or fill)")
    return {
        "report": REPORT_NAME, "schema_version": 1, "date": day.isoformat(),
        "timezone": TIMEZONE, "generated_ns": generated_ns,
        "activity": bool(head is not None and head["as_of"] is not None),
        "summary": _summary(sections, head, info),
        "window": {"since": since.isoformat() if since else None, "until": day.isoformat()},
        "risk_free_rate": risk_free_rate, "annualisation_days": 252, "benchmark": info,
        "accounts": sections, "totals": totals,
        "series": _series(head_book, since, series) if head_book is not None else None,
        "definitions": {**DEFINITIONS, **RELATION_DEFINITIONS, **_MORE_DEFINITIONS}, "notes": notes,
    }


def _benchmark(settings: Settings, asked: str | None) -> tuple[str | None, Benchmark | None,
                                                               str | None]:
    """(symbol, its real closes or None, why not); the default tries SPY, then AAPL."""
    chosen = asked or settings.performance_benchmark
    candidates = [parse_benchmark(chosen)] if chosen else list(DEFAULT_BENCHMARKS)
    store = open_history_store(settings.resolved_history_url)
    try:
        history = read_history(store, candidates)
    finally:
        store.close()
    for symbol in candidates:
        if symbol in history.series:
            ts, close = history.series[symbol]
            closes = {bar_day(int(t)): float(c)
                      for t, c in zip(ts.tolist(), close.tolist(), strict=True)}
            return symbol, Benchmark(symbol, history.sources[symbol], closes), None
    return (candidates[0], None, f"no real daily history of {' or '.join(candidates)} in the "
            "bar store (simulator bars do not count); import it: mcp-trading data import")


def build_performance_report(settings: Settings, day: date, *, since: date | None = None,
                             account: str | None = None, benchmark: str | None = None,
                             today: date | None = None) -> Report:
    """The performance summary of `day` (checked by `parse_day`), `since` a checked date."""
    url = platform_store_url(settings)
    now = time.time_ns()
    histories, notes = read_histories(url, day, today=today or _today(), now_ns=now)
    if account is not None:
        histories = [h for h in histories if h.account_id == account]
        if not histories:
            raise NotFoundError(f"no account {account!r} by {day}; GET :8010/accounts lists "
                                "them (or leave out --account for every account)",
                                field="account")
    doc = performance_document(histories, day, since=since,
                               bench=_benchmark(settings, benchmark),
                               risk_free_rate=settings.performance_risk_free_rate,
                               generated_ns=now, notes=notes)
    return Report(REPORT_NAME, day.isoformat(), doc, performance_text(doc),
                  performance_html(doc))


def _today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()
