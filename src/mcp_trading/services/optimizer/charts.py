"""The frontier's points, and a run's self-contained HTML report: a weights bar chart, the
efficient frontier (volatility against expected return, the assets and the run's portfolio
marked), the figures and the notes. Inline SVG, no script, nothing fetched (the page's CSP
forbids it); every text escaped.

A report of an optimize run draws the frontier again from the prices stored with the run
(the same estimators and constraints); when it cannot (a frontier needs mean-variance and
the stored prices), the page says why instead.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np

from mcp_trading.analytics.svg import PALETTE, Series, line_chart, nice_ticks
from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.problem import Problem

__all__ = ["frontier_chart", "frontier_points", "run_report", "weights_chart"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } svg { display: block; margin: 0.5em 0; max-width: 100%; }
.note { color: #555; font-size: 0.85em; }
"""
_W, _H, _L, _R, _T, _B = 860, 340, 78, 20, 40, 52


def frontier_points(problem: Problem, points: int) -> list[dict[str, Any]]:
    """`points` efficient portfolios: expected return, volatility, Sharpe and weights."""
    from mcp_trading.optimizer.meanvar import frontier

    rf = problem.estimates.risk_free_rate
    out = []
    for ret, vol, weights in frontier(problem, points):
        out.append({"expected_return": ret, "volatility": vol,
                    "sharpe": (ret - rf) / vol if vol > 0 else None,
                    "weights": {s: round(float(w), 10) for s, w in
                                zip(problem.estimates.symbols, weights, strict=True)}})
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _frame(title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
            f'aria-label="{escape(title)}">',
            f'<text x="{_W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']


def weights_chart(weights: dict[str, str]) -> str:
    """Horizontal-axis bars, one per symbol (a `rect.weight` each), 0 marked."""
    values = {s: float(w) for s, w in weights.items()}
    lo, hi = min(0.0, *values.values()), max(0.0, *values.values())
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1)
    y0, y1 = ticks[0], ticks[-1]
    plot_h = _H - _T - _B

    def y(v: float) -> float:
        return _T + plot_h * (1 - (v - y0) / (y1 - y0))

    n = max(len(values), 1)
    slot = (_W - _L - _R) / n
    parts = _frame("Weights")
    for t in ticks:
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                     f'stroke="#ddd"/><text x="{_L - 6}" y="{y(t) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{escape(_pct(t))}</text>')
    for i, (symbol, v) in enumerate(values.items()):
        x = _L + i * slot + slot * 0.15
        top, bottom = y(max(v, 0.0)), y(min(v, 0.0))
        parts.append(f'<rect class="weight" data-symbol="{escape(symbol)}" x="{x:.1f}" '
                     f'y="{top:.1f}" width="{slot * 0.7:.1f}" height="{bottom - top:.1f}" '
                     f'fill="{PALETTE[0]}"><title>{escape(symbol)} {escape(_pct(v))}</title>'
                     '</rect>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{_H - _B + 16}" text-anchor="middle" '
                     f'font-size="11">{escape(symbol)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def frontier_chart(points: list[dict[str, Any]], assets: list[dict[str, Any]],
                   marked: tuple[float, float] | None) -> str:
    """The frontier as a line (`polyline.frontier`), the assets and the portfolio as dots."""
    xs = [p["volatility"] for p in points] + [a["volatility"] for a in assets]
    ys = [p["expected_return"] for p in points] + [a["expected_return"] for a in assets]
    if marked is not None:
        xs.append(marked[0])
        ys.append(marked[1])
    xt = nice_ticks(min(0.0, *xs), max(xs))
    yt = nice_ticks(min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 0.01)

    def px(v: float) -> float:
        return _L + (_W - _L - _R) * (v - xt[0]) / (xt[-1] - xt[0])

    def py(v: float) -> float:
        return _T + (_H - _T - _B) * (1 - (v - yt[0]) / (yt[-1] - yt[0]))

    parts = _frame("Efficient frontier (annual volatility against expected return)")
    for t in yt:
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                     f'stroke="#ddd"/><text x="{_L - 6}" y="{py(t) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{escape(_pct(t))}</text>')
    for t in xt:
        parts.append(f'<text x="{px(t):.1f}" y="{_H - _B + 16}" text-anchor="middle" '
                     f'font-size="11">{escape(_pct(t))}</text>')
    line = " ".join(f"{px(p['volatility']):.1f},{py(p['expected_return']):.1f}" for p in points)
    parts.append(f'<polyline class="frontier" fill="none" stroke="{PALETTE[0]}" '
                 f'stroke-width="2" points="{line}"/>')
    for a in assets:
        parts.append(f'<circle class="asset" cx="{px(a["volatility"]):.1f}" '
                     f'cy="{py(a["expected_return"]):.1f}" r="4" fill="{PALETTE[2]}"/>'
                     f'<text x="{px(a["volatility"]) + 6:.1f}" y="{py(a["expected_return"]):.1f}"'
                     f' font-size="11">{escape(a["symbol"])}</text>')
    if marked is not None:
        parts.append(f'<circle class="portfolio" cx="{px(marked[0]):.1f}" '
                     f'cy="{py(marked[1]):.1f}" r="6" fill="{PALETTE[1]}"/>')
    parts.append(f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle" font-size="12">'
                 'volatility</text></svg>')
    return "".join(parts)


def _rebuilt_frontier(stored: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                       list[dict[str, Any]]] | str:
    """The frontier of an optimize run from its stored prices, or why there is none."""
    from mcp_trading.services.optimizer import compute
    from mcp_trading.services.optimizer.inputs import OptimizeBody, parse_body
    from mcp_trading.services.optimizer.prices import Closes

    inputs = stored.get("inputs", {})
    if "table" not in inputs:
        return "the run's prices were too many to store with it"
    body = parse_body(OptimizeBody, stored["request"])
    bench = inputs.get("benchmark")
    closes = Closes(tuple(inputs["symbols"]), np.asarray(inputs["table"], dtype=np.float64),
                    benchmark=None if bench is None else np.asarray(bench, dtype=np.float64),
                    is_returns=bool(inputs.get("is_returns")))
    try:
        estimates = compute.estimates_of(body, closes)
        constraints = compute.build_constraints(body.constraints, estimates.symbols, None
                                                ) if body.constraints.max_turnover is None \
            else compute.build_constraints(body.constraints.model_copy(
                update={"max_turnover": None}), estimates.symbols, None)
        points = frontier_points(Problem(estimates, constraints), 20)
    except InvalidError as exc:
        return f"no frontier for these constraints: {exc.message}"
    assets = [{"symbol": s, "expected_return": float(estimates.mu[i]),
               "volatility": math.sqrt(float(estimates.cov[i, i]))}
              for i, s in enumerate(estimates.symbols)]
    return points, assets


def _table(rows: list[tuple[str, str]], table_id: str) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td class=\"num\">{escape(v)}</td></tr>"
                   for k, v in rows)
    return f'<table id="{table_id}"><tbody>{body}</tbody></table>'


def _fmt(x: Any, pct: bool = True) -> str:
    if x is None:
        return "n/a"
    return _pct(float(x)) if pct else f"{float(x):.3f}"


def _evaluation(result: dict[str, Any]) -> list[str]:
    """An evaluate run: the candidates' out-of-sample equity overlaid, their metrics."""
    from datetime import UTC, datetime

    def ns(day: str) -> int:
        return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) * 1_000_000_000

    series = [Series(r["name"], [ns(d) for d, _ in r["equity"]], [v for _, v in r["equity"]])
              for r in result["results"]]
    rows = "".join(
        f"<tr><td>{escape(r['name'])}</td>" + "".join(
            f'<td class="num">{escape(_fmt(r["metrics"].get(k), pct=k != "sharpe"))}</td>'
            for k in ("annual_return", "volatility", "sharpe", "max_drawdown", "turnover"))
        + "</tr>" for r in result["results"])
    head = "".join(f"<th>{h}</th>" for h in ("candidate", "annual return", "volatility",
                                             "Sharpe", "max drawdown", "turnover"))
    return ["<h2>Out-of-sample equity (walk-forward, base 1)</h2>",
            line_chart(series, title="Out-of-sample equity", y_label="equity",
                       y_format=lambda v: f"{v:.2f}", css_class="chart equity"),
            f'<table id="evaluation"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
            "</table>", f'<p class="note">{escape(result.get("basis", ""))}</p>']


def run_report(stored: dict[str, Any]) -> str:
    """The HTML page of a stored optimize, frontier or evaluate run (module docstring)."""
    result = stored["result"]
    what = result.get("method") or ", ".join(result.get("methods", []))
    title = f"Optimizer run {result['run_id']}: {what}"
    body = [f"<h1>{escape(title)}</h1>"]
    if result.get("kind") == "evaluate":
        body += _evaluation(result)
    if "weights" in result:
        body += ["<h2>Weights</h2>", weights_chart(result["weights"]),
                 _table([(s, w) for s, w in result["weights"].items()], "weights"),
                 _table([("expected return", _fmt(result.get("expected_return"))),
                         ("volatility", _fmt(result.get("volatility"))),
                         ("Sharpe ratio", _fmt(result.get("sharpe"), pct=False)),
                         ("risk-free rate", _fmt(result.get("risk_free_rate"))),
                         ("estimators", f"{result['estimators']['expected_returns']} / "
                                        f"{result['estimators']['covariance']}")], "figures")]
    points, assets = result.get("points"), result.get("assets")
    if points is None and "weights" in result:
        rebuilt = _rebuilt_frontier(stored)
        if isinstance(rebuilt, str):
            body.append(f'<p class="note">{escape(rebuilt)}</p>')
        else:
            points, assets = rebuilt
    if points:
        marked = None if result.get("volatility") is None else (
            float(result["volatility"]), float(result["expected_return"]))
        body += ["<h2>Efficient frontier</h2>", frontier_chart(points, assets or [], marked)]
    notes = [*result.get("notes", []), result.get("rounding", "")]
    body += ["<h2>Notes</h2>", *(f'<p class="note">{escape(n)}</p>' for n in notes if n)]
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
                      f"<title>{escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>",
                      "<body>", *body, "</body>", "</html>", ""])
