"""The self-contained HTML report of a run, and the comparison of several runs.

One file, viewable offline: inline CSS and inline SVG charts (svg.py), no script, no external
font, image or stylesheet, and a Content-Security-Policy that forbids fetching anything, so
even a mistake here cannot make the page reach the network. Every text that comes from a run
(title, strategy name, parameters, symbols) goes through `html.escape`: a parameter
`<script>` renders as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from mcp_trading.analytics.equity import EquityCurve, FloatArray
from mcp_trading.analytics.run import METRIC_ROWS, RunReport, format_metric, time_text
from mcp_trading.analytics.svg import Series, line_chart
from mcp_trading.domain.errors import InvalidError

__all__ = ["MAX_TRADE_ROWS", "compare_report", "drawdown_series", "html_page", "html_table",
           "report_html"]

MAX_TRADE_ROWS = 5_000  # beyond this the table shows the first ones and says how many exist
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } tr.loss td.pnl { color: #b00; } tr.win td.pnl { color: #070; }
svg { display: block; margin: 0.5em 0; max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.85em; }
"""


def _pct(value: float) -> str:
    if abs(value) < 1e-12:
        return "0 %"
    return f"{value * 100:.0f} %" if abs(value) >= 0.1 else f"{value * 100:.1f} %"


def _money(value: float) -> str:
    return f"{value:,.0f}"


def drawdown_series(curve: EquityCurve) -> FloatArray:
    """Each day's drawdown from the running peak (the initial equity counts as a peak), ≤ 0."""
    if len(curve) == 0:
        return np.empty(0)
    wealth = curve.equity if curve.initial is None else np.concatenate(
        ([curve.initial], curve.equity))
    running = np.maximum.accumulate(wealth)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(running > 0, wealth / running - 1.0, np.nan)
    return depth if curve.initial is None else depth[1:]


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", ""])


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]],
           numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = [f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>']
    for row in rows:
        cells = "".join(f'<td class="num">{escape(c)}</td>' if i >= numeric_from
                        else f"<td>{escape(c)}</td>" for i, c in enumerate(row))
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _facts(run: RunReport) -> str:
    rows = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
                   for label, value in run.facts())
    return f'<table id="run">{rows}</table>'


def _trade_table(run: RunReport) -> list[str]:
    header = ("Symbol", "Side", "Qty", "Entry time", "Entry price", "Exit time", "Exit price",
              "P&L", "Return")
    lines = [f'<table id="trades"><thead><tr>{"".join(f"<th>{h}</th>" for h in header)}'
             "</tr></thead><tbody>"]
    for trade in list(run.trades)[:MAX_TRADE_ROWS]:
        outcome = "win" if trade.pnl > 0 else "loss" if trade.pnl < 0 else "flat"
        cells = (escape(trade.symbol), escape(trade.side), f"{trade.qty:f}", time_text(trade.entry_time),
                 f"{trade.entry_price:,.4f}", time_text(trade.exit_time),
                 f"{trade.exit_price:,.4f}", f"{trade.pnl:,.2f}",
                 f"{float(trade.return_) * 100:,.2f} %")
        tds = "".join(f'<td class="{"pnl num" if i == 7 else "num" if i > 1 else ""}">{c}</td>'
                      for i, c in enumerate(cells))
        lines.append(f'<tr class="{outcome}">{tds}</tr>')
    lines.append("</tbody></table>")
    if len(run.trades) > MAX_TRADE_ROWS:
        lines.append(f'<p class="note">The first {MAX_TRADE_ROWS:,} of {len(run.trades):,} '
                     "trades; the JSON result has them all.</p>")
    if not run.trades:
        lines.append('<p class="note">No closed trades.</p>')
    return lines


def _metric_rows(runs: Sequence[RunReport]) -> list[list[str]]:
    return [[label, *(format_metric(getattr(run.metrics, name), kind) for run in runs)]
            for name, label, kind in METRIC_ROWS]


def _base(curve: EquityCurve) -> float:
    if curve.initial:
        return curve.initial
    return float(curve.equity[0]) if len(curve) and curve.equity[0] else 1.0


def _equity_chart(runs: Sequence[RunReport], title: str) -> str:
    if len({_base(run.curve) for run in runs}) <= 1:
        series = [Series(run.title, run.curve.ts.tolist(), run.curve.equity.tolist())
                  for run in runs]
        return line_chart(series, title=title, y_label="equity", y_format=_money,
                          css_class="chart equity")
    # different starting equities: compare growth, not size
    series = [Series(run.title, run.curve.ts.tolist(), (run.curve.equity / _base(run.curve)).tolist())
              for run in runs]
    return line_chart(series, title=title, y_label="equity / starting equity",
                      y_format=lambda v: f"{v:.2f}", css_class="chart equity")


def _drawdown_chart(runs: Sequence[RunReport], title: str) -> str:
    series = [Series(run.title, run.curve.ts.tolist(), drawdown_series(run.curve).tolist())
              for run in runs]
    return line_chart(series, title=title, y_label="drawdown from peak", y_format=_pct,
                      css_class="chart drawdown")


def _notes(run: RunReport) -> list[str]:
    if not run.metrics.notes:
        return []
    items = "".join(f"<li>{escape(note)}</li>" for note in run.metrics.notes)
    return [f'<ul class="note" id="notes">{items}</ul>']


def report_html(run: RunReport) -> str:
    """The report of one run: its facts, equity and drawdown charts, metrics and trades."""
    body = [f"<h1>{escape(run.title)}</h1>", _facts(run),
            "<h2>Equity</h2>", _equity_chart([run], f"Equity: {run.title}"),
            "<h2>Drawdown</h2>", _drawdown_chart([run], f"Drawdown: {run.title}"),
            "<h2>Metrics</h2>",
            _table("metrics", ("Metric", "Value"), _metric_rows([run])), *_notes(run),
            f"<h2>Trades ({len(run.trades):,})</h2>", *_trade_table(run),
            '<p class="note">Metrics: simple daily returns, 252 trading days a year, the '
            "risk-free rate converted to daily as (1 + rate)^(1/252) - 1. Times are UTC.</p>"]
    return _page(run.title, body)


def compare_report(runs: Sequence[RunReport], title: str = "Comparison of runs") -> str:
    """Several runs: equity curves overlaid, drawdowns overlaid, metrics side by side."""
    if not runs:
        raise InvalidError("compare_report needs at least one run; give the runs to compare",
                           field="runs")
    names = [run.title for run in runs]
    params = sorted({key for run in runs for key in run.params})
    facts = [["Strategy", *(run.strategy for run in runs)],
             ["Symbols", *(", ".join(run.symbols) for run in runs)],
             ["Data range", *(f"{run.metrics.start} to {run.metrics.end}" for run in runs)],
             *([f"param {key}", *(str(run.params.get(key, "")) for run in runs)]
               for key in params),
             ["Strategy source sha256", *(run.source_hash[:12] for run in runs)]]
    body = [f"<h1>{escape(title)}</h1>",
            "<h2>Equity</h2>", _equity_chart(runs, "Equity"),
            "<h2>Drawdown</h2>", _drawdown_chart(runs, "Drawdown"),
            "<h2>Runs</h2>", _table("runs", ("", *names), facts, numeric_from=99),
            "<h2>Metrics</h2>", _table("metrics", ("Metric", *names), _metric_rows(runs))]
    return _page(title, body)


#: the page and table builders, shared with the end-of-day reports (mcp_trading.reports)
html_page = _page
html_table = _table
