"""Performance analytics: round-trip trades, the daily equity curve, metrics and reports.

Shared by backtests (issue 14) and the end-of-day reports (issue 17). Imports only the
standard library, numpy and the domain (an import-linter contract and
tests/unit/test_import_contracts.py hold it to that):

    trades.py   fills -> round-trip trades (FIFO per symbol, Decimal)
    equity.py   fills + daily closing marks + starting cash -> EquityCurve (numpy float64)
    metrics.py  EquityCurve + trades -> Metrics (JSON-safe, every definition stated)
    run.py      RunReport (what a report shows of a run) and how metrics are written
    svg.py      inline SVG line charts (no scripts, no fonts, no network)
    report.py   the self-contained HTML report of a run, and a comparison of several
    text.py     the plain-text summary for the CLI
"""

__all__: list[str] = []  # a namespace: its modules are the surface
