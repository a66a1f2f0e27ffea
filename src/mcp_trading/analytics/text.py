"""The plain-text summary of a run for the CLI (`mcp-trading backtest ...` without --json).

Aligned two-column text, no colour and no markup, so it reads the same in a terminal, a log
or a mail; the CLI may render the same rows as a rich table instead (`summary_rows`).
"""

from __future__ import annotations

from mcp_trading.analytics.run import METRIC_ROWS, RunReport, format_metric

__all__ = ["summary_rows", "summary_text"]


def summary_rows(run: RunReport) -> list[tuple[str, str]]:
    """(label, value) rows: the run's facts, its period, then every metric."""
    period = [("Period", f"{run.metrics.start} to {run.metrics.end} "
                         f"({run.metrics.days:,} days)"),
              ("Final equity", format_metric(float(run.curve.equity[-1]), "ratio")
               if len(run.curve) else "n/a")]
    metrics = [(label, format_metric(getattr(run.metrics, name), kind))
               for name, label, kind in METRIC_ROWS]
    return [*run.facts(), *period, *metrics]


def summary_text(run: RunReport) -> str:
    """The summary as aligned plain text, title first and the notes last."""
    rows = summary_rows(run)
    width = max(len(label) for label, _ in rows)
    lines = [run.title, "=" * len(run.title)]
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    lines += [f"note: {note}" for note in run.metrics.notes]
    return "\n".join(lines) + "\n"
