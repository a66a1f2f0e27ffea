"""The documented JSON schemas of the reports (JSON Schema 2020-12), one per report name.

Money is a decimal string with 2 places, quantities and prices decimal strings as the kernel
holds them, times ns since the epoch (integers). `mcp-trading report schema NAME` prints one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DAILY_RISK", "DAILY_TRADING", "PERFORMANCE_SUMMARY", "SCHEMAS"]

_MONEY: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
_DEC: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+(\.\d+)?(E[+-]?\d+)?$"}
_OPT_DEC: dict[str, Any] = {"anyOf": [_DEC, {"type": "null"}]}
_OPT_MONEY: dict[str, Any] = {"anyOf": [_MONEY, {"type": "null"}]}
_NS: dict[str, Any] = {"type": "integer"}
_STR: dict[str, Any] = {"type": "string"}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(props), "properties": props,
            "additionalProperties": False}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_TOTALS = _obj({"fills": {"type": "integer"}, "notional": _MONEY, "realized_pnl": _MONEY,
                "commissions": _MONEY, "net_realized_pnl": _MONEY, "unrealized_pnl": _MONEY,
                "slippage": _MONEY, "slippage_bps": _OPT_MONEY,
                "fills_without_mid": {"type": "integer"}})

_PNL = _obj({
    "account_id": _STR, "symbol": _STR, "fills": {"type": "integer"}, "bought_qty": _DEC,
    "sold_qty": _DEC, "notional": _MONEY, "realized_pnl": _MONEY, "commissions": _MONEY,
    "net_realized_pnl": _MONEY, "end_qty": _DEC, "avg_entry_price": _OPT_DEC, "mark": _OPT_DEC,
    "mark_source": {"enum": ["bar", "last_fill", "none", None]}, "unrealized_pnl": _MONEY,
    "slippage": _MONEY, "slippage_bps": _OPT_MONEY, "fills_without_mid": {"type": "integer"}})

DAILY_TRADING: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "daily_trading report",
    "description": "One trading day (00:00-24:00 in `timezone`) of orders, fills, P&L, "
                   "slippage, rejections, halts, maintenance and who traded; the figures' "
                   "definitions travel in `definitions`.",
    **_obj({
        "report": {"const": "daily_trading"}, "schema_version": {"const": 1},
        "date": {"type": "string", "format": "date"}, "timezone": _STR,
        "window": _obj({"start_ns": _NS, "end_ns": _NS}), "trading_day": {"type": "boolean"},
        "generated_ns": _NS, "activity": {"type": "boolean"}, "summary": _STR,
        "orders": _obj({"total": {"type": "integer"},
                        "by_status": {"type": "object",
                                      "additionalProperties": {"type": "integer"}}}),
        "fills": _obj({"count": {"type": "integer"}, "notional": _MONEY}),
        "totals": _TOTALS, "pnl_by_symbol": _list(_PNL),
        "rejections": _list(_obj({"code": _STR, "count": {"type": "integer"},
                                  "symbols": _list(_STR), "examples": _list(_STR)})),
        "halts": _list(_obj({"ts_ns": _NS, "scope": _STR, "state": _STR, "reason": _STR,
                             "actor": _STR})),
        "maintenance_windows": _list(_obj({
            "start_ns": _NS, "end_ns": {"anyOf": [_NS, {"type": "null"}]}, "reason": _STR,
            "ended_by": {"anyOf": [_STR, {"type": "null"}]},
            "open_at_day_end": {"type": "boolean"}})),
        "traders": _list(_obj({"attribution": _STR, "kind": _STR,
                               "orders": {"type": "integer"}, "fills": {"type": "integer"},
                               "notional": _MONEY})),
        "intraday": _obj({"ts_ns": _list(_NS), "net_realized_pnl": _list(_MONEY),
                          "slippage": _list(_MONEY), "notional": _list(_MONEY)}),
        "definitions": {"type": "object", "additionalProperties": _STR},
        "notes": _list(_STR),
    }),
}

_RATIO: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "null"}]}
_OPT_STR: dict[str, Any] = {"anyOf": [_STR, {"type": "null"}]}
_NAMED = _obj({"symbol": _STR, "reason": _STR})

_FIGURE: dict[str, Any] = {
    "type": "object",
    "required": ["method", "confidence", "horizon_days", "var", "es", "var_pct_equity",
                 "es_pct_equity", "horizon_scaling", "window"],
    "properties": {"method": {"enum": ["historical", "parametric", "cornish_fisher"]},
                   "confidence": {"type": "number"}, "horizon_days": {"type": "integer"},
                   "var": _MONEY, "es": _MONEY, "var_pct_equity": _RATIO,
                   "es_pct_equity": _RATIO, "horizon_scaling": _STR,
                   "window": _obj({"days": {"type": "integer"}, "first": _STR, "last": _STR}),
                   "note": _STR},
    "additionalProperties": False}

_SCENARIO: dict[str, Any] = {  # kind-specific fields as GET :8012/stress gives them
    "type": "object",
    "required": ["name", "kind", "description", "loss", "loss_pct_equity"],
    "properties": {"name": _STR, "kind": {"enum": ["historical", "shock", "volatility"]},
                   "description": _STR, "loss": _MONEY, "loss_pct_equity": _RATIO,
                   "pnl_by_symbol": {"type": "object", "additionalProperties": _MONEY},
                   "excluded": _list(_NAMED), "note": _STR},
    "additionalProperties": True}

_ACCOUNT = _obj({
    "account_id": _STR, "equity": _MONEY, "gross_exposure": _MONEY, "net_exposure": _MONEY,
    "exposure": _list(_obj({"symbol": _STR, "qty": _DEC, "mark": _OPT_DEC,
                            "mark_source": {"enum": ["bar", "last_fill", "fold", "none"]},
                            "market_value": _OPT_MONEY, "weight_of_equity": _RATIO,
                            "share_of_gross": _RATIO})),
    "excluded": _list(_NAMED),
    "included": _list(_obj({"symbol": _STR, "market_value": _MONEY,
                            "weight_of_equity": _RATIO})),
    "var": {"type": "object", "required": ["window", "figures"],
            "properties": {"window": {"anyOf": [{"type": "object"}, {"type": "null"}]},
                           "figures": _list(_FIGURE), "note": _STR},
            "additionalProperties": False},
    "limit_utilisation": {"type": "object", "additionalProperties": _obj(
        {"value": _DEC, "limit": _OPT_STR, "pct": _OPT_STR})},
    "stress": _list(_SCENARIO), "scenarios_from": _STR,
    "concentration": _obj({"largest": _list(_obj({"symbol": _STR, "market_value": _MONEY,
                                                  "weight_of_equity": _RATIO})),
                           "hhi": {"type": "number"}, "effective_names": {"type": "number"},
                           "positions": {"type": "integer"}}),
})

DAILY_RISK: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "daily_risk report",
    "description": "Every account's positions at the end of one day (`timezone`): VaR/ES by "
                   "method, confidence and horizon, stress scenarios, limit utilisation, "
                   "concentration and exposure by symbol, positions left out and why; the "
                   "day's risk refusals grouped by code. Definitions travel in `definitions`.",
    **_obj({
        "report": {"const": "daily_risk"}, "schema_version": {"const": 1},
        "date": {"type": "string", "format": "date"}, "timezone": _STR,
        "window": _obj({"start_ns": _NS, "end_ns": _NS}), "generated_ns": _NS,
        "activity": {"type": "boolean"}, "summary": _STR,
        "query": _obj({"confidence": _list({"type": "number"}),
                       "horizon": _list({"type": "integer"}), "method": _list(_STR),
                       "window": {"type": "integer"}}),
        "accounts": _list(_ACCOUNT),
        "breaches": _list(_obj({"code": _STR, "limit": _STR, "count": {"type": "integer"},
                                "accounts": _list(_STR), "symbols": _list(_STR),
                                "first_ns": _NS, "last_ns": _NS, "examples": _list(_STR)})),
        "state_changes": _list(_obj({"ts_ns": _NS, "scope": _STR, "state": _STR,
                                     "reason": _STR, "actor": _STR})),
        "definitions": {"type": "object", "additionalProperties": _STR},
        "notes": _list(_STR),
    }),
}

_DATE: dict[str, Any] = {"type": "string", "format": "date"}
_OPT_DATE: dict[str, Any] = {"anyOf": [_DATE, {"type": "null"}]}
_INT: dict[str, Any] = {"type": "integer"}

_PERIOD = _obj({
    "period": {"enum": ["day", "mtd", "ytd", "inception", "since"]}, "start": _DATE,
    "base_day": _OPT_DATE, "end_day": _OPT_DATE, "days": _INT, "return": _RATIO,
    "pnl": _OPT_MONEY, "start_equity": _OPT_MONEY, "end_equity": _OPT_MONEY,
    "benchmark_return": _RATIO, "excess_return": _RATIO})

_BOOK = _obj({
    "account_id": _STR, "currency": _STR,
    "inception": _obj({"date": _DATE, "equity": _OPT_MONEY}),
    "as_of": _OPT_DATE, "equity": _OPT_MONEY,
    "source": {"enum": ["close", "manual", "journal_fold", None]},
    "periods": _list(_PERIOD),
    # analytics.metrics.Metrics.as_dict() (its fields, `notes`, `basis`) plus `winning_days`
    # and, with a benchmark, `common_days`, `beta`, `correlation`; null where undefined
    "metrics": {"type": "object", "required": [
        "start", "end", "days", "returns", "total_return", "cagr", "annual_volatility",
        "sharpe", "sortino", "calmar", "max_drawdown", "max_drawdown_duration_days",
        "best_day", "worst_day", "winning_days", "risk_free_rate", "notes", "basis"],
        "additionalProperties": True},
})

PERFORMANCE_SUMMARY: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "performance_summary report",
    "description": "Every account's and the totals' returns for the day, month to date, year "
                   "to date and since inception (and since `window.since`), the metrics of the "
                   "window, a benchmark's buy-and-hold over the same dates, and the daily "
                   "series of the charts (`series`: the totals, or the first account when the "
                   "accounts are in several currencies). Ratios are fractions (0.01 = 1 %). "
                   "Definitions travel in `definitions`.",
    **_obj({
        "report": {"const": "performance_summary"}, "schema_version": {"const": 1},
        "date": _DATE, "timezone": _STR, "generated_ns": _NS, "activity": {"type": "boolean"},
        "summary": _STR, "window": _obj({"since": _OPT_DATE, "until": _DATE}),
        "risk_free_rate": {"type": "number"}, "annualisation_days": {"const": 252},
        "benchmark": _obj({"symbol": _OPT_STR, "available": {"type": "boolean"},
                           "reason": _OPT_STR, "source": _OPT_STR, "first_day": _OPT_DATE,
                           "last_day": _OPT_DATE, "beta": _RATIO, "correlation": _RATIO,
                           "common_days": _INT}),
        "accounts": _list(_BOOK), "totals": {"anyOf": [_BOOK, {"type": "null"}]},
        "series": {"anyOf": [{"type": "null"}, _obj({
            "of": _STR, "dates": _list(_DATE), "start_equity": _OPT_MONEY,
            "equity": _list(_MONEY), "growth": _list(_MONEY),
            "benchmark_equity": _list(_RATIO),
            "drawdown": _list(_RATIO), "pnl": _list(_MONEY),
            "gross_exposure": _list(_RATIO), "net_exposure": _list(_RATIO)})]},
        "definitions": {"type": "object", "additionalProperties": _STR},
        "notes": _list(_STR),
    }),
}

SCHEMAS: dict[str, dict[str, Any]] = {"daily_trading": DAILY_TRADING, "daily_risk": DAILY_RISK,
                                      "performance_summary": PERFORMANCE_SUMMARY}
