"""Stress tests of one account's positions today (`GET :8012/stress`); definitions in
`mcp_trading.analytics.stress`.

The scenarios are `<data dir>/risk_scenarios.json` when that file exists (it replaces the
shipped set whole), else the shipped `mcp_trading/data/risk/scenarios.json`. The file is read
on every call, so an edit takes effect without a restart; a malformed file is a 422 naming
the problem, nothing is computed.
"""

from __future__ import annotations

import json
import time
from datetime import date
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from mcp_trading.adapters.feeds.replay import day_start_ns
from mcp_trading.analytics.risk import align_closes, portfolio_pnl, var_es
from mcp_trading.analytics.stress import (
    Scenario,
    parse_scenarios,
    range_return,
    shock_loss,
    volatility_scaled,
    worst_window,
)
from mcp_trading.domain.errors import InvalidError
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.risk.analytics import account_of, excluded_of, money_of, ratio_of
from mcp_trading.services.risk.prices import Book, History, book_of, day_text, load_history
from mcp_trading.services.risk.queries import Items, names_of, parse_var_query
from mcp_trading.services.views import iso

__all__ = ["SCENARIOS_FILE", "StressTests", "load_scenarios", "shipped_scenarios", "stress_of"]

SCENARIOS_FILE = "risk_scenarios.json"
_EDGE_NS = 10 * 86_400_000_000_000  # worst window: how near both ends a history must reach


def shipped_scenarios() -> Path:
    return Path(str(resources.files("mcp_trading") / "data" / "risk" / "scenarios.json"))


def load_scenarios(path: Path | None) -> tuple[list[Scenario], str]:
    """The scenarios and where they came from (the data dir's file, else the shipped one)."""
    chosen = path if path is not None and path.exists() else shipped_scenarios()
    try:
        doc = json.loads(chosen.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidError(f"scenarios: {chosen} cannot be read as JSON ({exc}); fix or remove it",
                           code="INVALID_SCENARIO", field="scenarios") from None
    return parse_scenarios(doc), str(chosen)


def _ns(text: str) -> int:
    return day_start_ns(date.fromisoformat(text))


def _result(s: Scenario, book: Book, pnl: dict[str, float], **more: Any) -> dict[str, Any]:
    loss = -sum(pnl.values())
    return {"name": s.name, "kind": s.kind, "description": s.description,
            "loss": money_of(loss), "loss_pct_equity": ratio_of(loss, book.equity),
            "pnl_by_symbol": {k: money_of(v) for k, v in sorted(pnl.items())}, **more}


def _fixed(s: Scenario, book: Book, history: History) -> dict[str, Any]:
    assert s.start is not None and s.end is not None
    start, end = _ns(s.start), _ns(s.end)
    pnl: dict[str, float] = {}
    returns: dict[str, float] = {}
    left: list[dict[str, str]] = []
    for symbol, (ts, close) in sorted(history.series.items()):
        r = range_return(ts, close, start, end)
        if r is None:
            left.append({"symbol": symbol, "reason": f"no stored close before {s.start} and "
                                                     f"in {s.start}..{s.end}"})
            continue
        returns[symbol] = round(r, 6)
        pnl[symbol] = book.values[symbol] * r
    return _result(s, book, pnl, start=s.start, end=s.end, returns=returns, excluded=left)


def _worst(s: Scenario, book: Book, history: History) -> dict[str, Any]:
    assert s.within is not None
    lo_ns, hi_ns = _ns(s.within[0]), _ns(s.within[1])
    inside = {sym: (ts[(ts >= lo_ns) & (ts <= hi_ns)], close[(ts >= lo_ns) & (ts <= hi_ns)])
              for sym, (ts, close) in sorted(history.series.items())}
    spans = [(t[0], t[-1]) for t, _ in inside.values() if t.shape[0]]
    kept: dict[str, tuple[Any, Any]] = {}
    left: list[dict[str, str]] = []
    if spans:
        # covers = reaches within _EDGE of the stored history's own first and last day in range
        first = min(a for a, _ in spans) + _EDGE_NS
        last = max(b for _, b in spans) - _EDGE_NS
        for symbol, (ts, close) in inside.items():
            if ts.shape[0] and ts[0] <= first and ts[-1] >= last:
                kept[symbol] = (ts, close)
    for symbol in sorted(set(inside) - set(kept)):
        left.append({"symbol": symbol, "reason": "its history does not cover the range "
                                                 f"{s.within[0]}..{s.within[1]} as the other "
                                                 "symbols' does"})
    if not kept:
        return _result(s, book, {}, within=list(s.within), days=s.days, start=None, end=None,
                       returns={}, excluded=left, note="no symbol's history covers the range")
    symbols = sorted(kept)
    common = reduce(np.intersect1d, (kept[sym][0] for sym in symbols))
    closes = np.column_stack([kept[sym][1][np.searchsorted(kept[sym][0], common)]
                              for sym in symbols])
    found = worst_window(closes, np.array([book.values[sym] for sym in symbols]), s.days)
    if found is None:
        return _result(s, book, {}, within=list(s.within), days=s.days, start=None, end=None,
                       returns={}, excluded=left, note=f"fewer than {s.days + 1} common closes")
    i, j, _ = found
    returns = {sym: float(closes[j, k] / closes[i, k] - 1.0) for k, sym in enumerate(symbols)}
    pnl = {sym: book.values[sym] * r for sym, r in returns.items()}
    return _result(s, book, pnl, within=list(s.within), days=s.days,
                   start=day_text(int(common[i + 1])), end=day_text(int(common[j])),
                   base_close=day_text(int(common[i])),
                   returns={k: round(v, 6) for k, v in returns.items()}, excluded=left)


def _volatility(s: Scenario, book: Book, history: History, window: int) -> dict[str, Any]:
    aligned = align_closes(history.series, window)
    left = [{"symbol": sym, "reason": r} for sym, r in aligned.excluded]
    if not aligned.symbols:
        return _result(s, book, {}, method=s.method, confidence=s.confidence, factor=s.factor,
                       base_var=None, stressed_var=None, excluded=left,
                       note="no position with real daily history covering the window")
    values = np.array([book.values[sym] for sym in aligned.symbols])
    base, _, _ = var_es(portfolio_pnl(aligned.returns, values), s.method, s.confidence)
    shocked = portfolio_pnl(volatility_scaled(aligned.returns, s.factor), values)
    stressed, _, _ = var_es(shocked, s.method, s.confidence)
    out = _result(s, book, {}, method=s.method, confidence=s.confidence, factor=s.factor,
                  horizon_days=1, base_var=money_of(base), stressed_var=money_of(stressed),
                  window={"days": window, "first": day_text(int(aligned.ts[0])),
                          "last": day_text(int(aligned.ts[-1]))}, excluded=left)
    out["loss"], out["loss_pct_equity"] = money_of(stressed), ratio_of(stressed, book.equity)
    del out["pnl_by_symbol"]
    return out


def _shock(s: Scenario, book: Book) -> dict[str, Any]:
    _, pnl = shock_loss(book.values, s.shocks)
    return _result(s, book, pnl, shocks=dict(s.shocks), applies_to="every marked position "
                   "(today's marks; no history needed)", excluded=[])


class StressTests:
    def __init__(self, core: ServiceCore, scenarios_file: Path | None) -> None:
        self.core = core
        self.scenarios_file = scenarios_file

    async def stress(self, principal: Any, *, account_id: str | None = None,
                     scenario: Items = None, window: str | int | None = None) -> dict[str, Any]:
        """Every asked scenario (all by default) replayed on the account's positions today."""
        scenarios, origin = load_scenarios(self.scenarios_file)
        wanted = names_of(scenario, [s.name for s in scenarios])
        days = parse_var_query(window=window).window
        _, account = account_of(self.core, principal, account_id)
        book = book_of(account)
        history = await load_history(self.core, list(book.values))
        return stress_of(book, history, [s for s in scenarios if s.name in wanted], days,
                         origin=origin)


def stress_of(book: Book, history: History, scenarios: list[Scenario], window: int, *,
              origin: str = "") -> dict[str, Any]:
    """The stress body for `book` (also usable offline, e.g. by a report, with a store read
    through `prices.read_history`)."""
    results = []
    for s in scenarios:
        if s.kind == "shock":
            results.append(_shock(s, book))
        elif s.kind == "volatility":
            results.append(_volatility(s, book, history, window))
        elif s.within is not None:
            results.append(_worst(s, book, history))
        else:
            results.append(_fixed(s, book, history))
    return {"account_id": book.account_id, "as_of": iso(time.time_ns()),
            "equity": money_of(book.equity), "scenarios_from": origin,
            "excluded": sorted(excluded_of(book, history), key=lambda e: e["symbol"]),
            "scenarios": results}
