"""What a report shows of one run, and how each metric is written for people.

`RunReport` gathers what the reports need and nothing they must look up: the platform
version, the strategy's source hash and the data range are given by the caller (the backtest
engine or the EOD job), since analytics imports nothing outside the domain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import Metrics
from mcp_trading.analytics.trades import RoundTrip

__all__ = ["METRIC_ROWS", "RunReport", "format_metric", "time_text"]

#: (Metrics attribute, label, format): the order the reports and the summary list them in
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("annual_volatility", "Annualised volatility", "pct"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("sortino", "Sortino ratio", "ratio"),
    ("calmar", "Calmar ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_duration_days", "Max drawdown duration (trading days)", "int"),
    ("max_drawdown_recovered", "Max drawdown recovered", "bool"),
    ("best_day", "Best day", "pct"),
    ("worst_day", "Worst day", "pct"),
    ("trades", "Closed trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("average_trade_return", "Average trade return", "pct"),
    ("turnover", "Turnover (x mean equity)", "ratio"),
    ("turnover_annual", "Turnover per year", "ratio"),
    ("exposure_time", "Time in the market", "pct"),
    ("exposure_average", "Average gross exposure / equity", "pct"),
)


def format_metric(value: object, kind: str) -> str:
    """A metric for people: percentages with 2 decimals, ratios with 2, "n/a" when undefined."""
    if value is None:
        return "n/a"
    if kind == "bool":
        return "yes" if value else "no"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind == "pct":
        return f"{value * 100:,.2f} %"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.2f}"


def time_text(ts: int) -> str:
    """A ns timestamp in UTC: the date alone at midnight, else date and time."""
    moment = datetime.fromtimestamp(ts // 10**9, UTC)
    if moment.hour == moment.minute == moment.second == 0:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class RunReport:
    """One run (a backtest, or an account's history) as the reports show it."""

    title: str  # e.g. "sma_crossover AAPL 2010-2015"
    curve: EquityCurve
    metrics: Metrics
    trades: Sequence[RoundTrip] = ()
    strategy: str = ""
    params: Mapping[str, object] = field(default_factory=dict)
    symbols: Sequence[str] = ()
    data_range: tuple[str, str] | None = None  # (first, last) date of the bars used
    source_hash: str = ""  # sha256 of the strategy's source
    platform_version: str = ""
    run_id: str = ""
    fill_rules: str = ""  # the fill, commission and slippage rules the run used, in words

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) of the run's identity, for the report header and the summary."""
        first, last = self.data_range or (self.metrics.start or "", self.metrics.end or "")
        rows = [("Run", self.run_id), ("Strategy", self.strategy),
                ("Symbols", ", ".join(self.symbols)), ("Data range", f"{first} to {last}"),
                ("Parameters", ", ".join(f"{k}={v}" for k, v in self.params.items())),
                ("Starting equity", "" if self.curve.initial is None
                 else format_metric(self.curve.initial, "ratio")),
                ("Strategy source sha256", self.source_hash),
                ("Platform version", self.platform_version),
                ("Risk-free rate (annual)", format_metric(self.metrics.risk_free_rate, "pct")),
                ("Annualisation", f"{self.metrics.annualisation} trading days"),
                ("Fill rules", self.fill_rules)]
        return [(label, value) for label, value in rows if value]
