"""Risk analytics of one account's positions today: VaR/ES (`var`) and concentration.

Framework-free service functions (REST and MCP call them with a Principal and plain values);
their JSON is what the daily risk report embeds. The figures and their definitions are
`mcp_trading.analytics.risk`; the prices are `prices.py` (real history only).

`var` also carries the account's limit utilisation (the same figures as `GET /exposures`),
so one call gives the report its risk table.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mcp_trading.analytics.risk import (
    HORIZON_SCALING,
    Aligned,
    RiskFigure,
    align_closes,
    portfolio_pnl,
    risk_figures,
)
from mcp_trading.analytics.stress import concentration
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import NotFoundError
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.risk.prices import Book, History, book_of, day_text, load_history
from mcp_trading.services.risk.queries import Items, VarQuery, parse_var_query
from mcp_trading.services.risk.service import account_usage
from mcp_trading.services.views import iso

__all__ = ["DEFINITIONS", "RiskAnalytics", "account_of", "concentration_of", "excluded_of",
           "money_of", "ratio_of", "var_of"]

DEFINITIONS = {
    "historical": "-(empirical alpha-quantile of the window's daily P&L, linear interpolation); "
                  "ES: -mean of the daily P&L at or below -VaR",
    "parametric": "normal: -(mean + z_alpha * sd) of the daily P&L (sd ddof=1); "
                  "ES: -mean + sd * pdf(z_alpha) / alpha",
    "cornish_fisher": "-(mean + z_cf * sd), z_cf the normal quantile adjusted by the P&L's "
                      "skewness and excess kurtosis; ES: the mean of the adjusted quantile "
                      "below alpha",
    "pnl": "today's positions (signed market value at today's mark) times each window day's "
           "simple return of the adjusted close; losses positive, account currency",
    "horizon_scaling": "h-day figure = 1-day figure x sqrt(h), for every method (no "
                       "overlapping h-day returns)",
}


def money_of(x: float) -> str:
    return f"{x:.2f}"


def ratio_of(x: float, equity: float) -> float | None:
    return round(x / equity, 6) if equity > 0 else None


def account_of(core: ServiceCore, principal: Principal | None, account_id: str | None
               ) -> tuple[Principal, Account]:
    caller = require(principal, Role.VIEWER)
    account_id = resolve_account(caller, account_id, core.default_account)
    account = core.kernel_runtime.kernel.state.accounts.get(account_id)
    if account is None:
        raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                            field="account")
    return caller, account


def excluded_of(book: Book, history: History) -> list[dict[str, str]]:
    unmarked = [{"symbol": s, "reason": "no mark yet: no market value today"}
                for s in book.unmarked]
    return unmarked + list(history.excluded)


def _figure_view(f: RiskFigure, equity: float, window: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "method": f.method, "confidence": f.confidence, "horizon_days": f.horizon_days,
        "var": money_of(f.var), "es": money_of(f.es),
        "var_pct_equity": ratio_of(f.var, equity), "es_pct_equity": ratio_of(f.es, equity),
        "horizon_scaling": "none" if f.horizon_days == 1
        else f"{HORIZON_SCALING}: the 1-day figure x sqrt({f.horizon_days})",
        "window": window,
    }
    if f.note:
        view["note"] = f.note
    return view


def _window_view(aligned: Aligned, history: History) -> dict[str, Any]:
    return {"days": int(aligned.ts.shape[0]) - 1,
            "first": day_text(int(aligned.ts[0])), "last": day_text(int(aligned.ts[-1])),
            "sources": {s: history.sources[s] for s in aligned.symbols},
            "adjusted": all(history.adjusted[s] for s in aligned.symbols)}


def var_of(book: Book, history: History, query: VarQuery, account: Account | None = None
           ) -> dict[str, Any]:
    """The /var body for `book` (reads no platform state: usable offline, e.g. by a
    report, with a store read through `prices.read_history`)."""
    aligned = align_closes(history.series, query.window)
    excluded = excluded_of(book, history) + [{"symbol": s, "reason": r}
                                             for s, r in aligned.excluded]
    body: dict[str, Any] = {
        "account_id": book.account_id, "as_of": iso(time.time_ns()),
        "equity": money_of(book.equity),
        "query": {"confidence": list(query.confidences), "horizon": list(query.horizons),
                  "method": list(query.methods), "window": query.window},
        "included": [{"symbol": s, "market_value": money_of(book.values[s]),
                      "weight_of_equity": ratio_of(book.values[s], book.equity)}
                     for s in aligned.symbols],
        "excluded": sorted(excluded, key=lambda e: e["symbol"]),
        "definitions": DEFINITIONS, "figures": [], "window": None,
    }
    if account is not None:
        body["limit_utilisation"] = {u.name: u.view() for u in account_usage(account)}
    if not aligned.symbols:
        body["note"] = "no position with real daily history covering the window: no figure"
        return body
    values = np.array([book.values[s] for s in aligned.symbols])
    pnl = portfolio_pnl(aligned.returns, values)
    window = _window_view(aligned, history)
    body["window"] = window
    brief = {k: window[k] for k in ("days", "first", "last")}
    body["figures"] = [_figure_view(f, book.equity, brief) for f in risk_figures(
        pnl, methods=query.methods, confidences=query.confidences, horizons=query.horizons)]
    return body


class RiskAnalytics:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    async def var(self, principal: Principal | None, *, account_id: str | None = None,
                  confidence: Items = None, horizon: Items = None, method: Items = None,
                  window: str | int | None = None) -> dict[str, Any]:
        """VaR and ES of the account's positions by each method, confidence and horizon."""
        query = parse_var_query(confidence=confidence, horizon=horizon, method=method,
                                window=window)
        _, account = account_of(self.core, principal, account_id)
        book = book_of(account)
        history = await load_history(self.core, list(book.values))
        return var_of(book, history, query, account)

    def concentration(self, principal: Principal | None, account_id: str | None = None,
                      *, top: int = 5) -> dict[str, Any]:
        """The largest names (weight of equity) and the HHI of the gross-exposure shares."""
        _, account = account_of(self.core, principal, account_id)
        return concentration_of(book_of(account), top=top)


def concentration_of(book: Book, *, top: int = 5) -> dict[str, Any]:
    """The /concentration body for `book` (reads no platform state: usable offline)."""
    c = concentration(book.values, book.equity, top=top)
    return {"account_id": book.account_id, "as_of": iso(time.time_ns()),
            "equity": money_of(book.equity),
            "gross_exposure": money_of(sum(abs(v) for v in book.values.values())),
            "positions": len(book.values),
            "largest": [{"symbol": s, "market_value": money_of(v),
                         "weight_of_equity": ratio_of(v, book.equity)} for s, v, _ in c.largest],
            "hhi": round(c.hhi, 6), "effective_names": round(c.effective_names, 4),
            "hhi_definition": "sum of squared shares of gross exposure (|value| / gross): "
                              "1/n for n equal names, 1 for one name",
            "unmarked": list(book.unmarked)}
