"""The report settings: a base class of `Settings` (config.py), like config_alerts.py.

Environment names: `MCP_TRADING_PERFORMANCE_BENCHMARK`, `MCP_TRADING_PERFORMANCE_RISK_FREE_RATE`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_BENCHMARKS", "ReportSettings"]

#: the benchmark when none is set: the first of these with real daily history in the bar
#: store (SPY, the S&P 500 ETF, once imported; else AAPL, which the shipped sample holds)
DEFAULT_BENCHMARKS = ("SPY", "AAPL")


class ReportSettings(BaseSettings):
    """What the performance summary compares with and how its ratios are computed."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    performance_benchmark: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-/]{0,15}$",
        description="Symbol whose buy-and-hold (real daily closes) the performance summary "
                    "compares with; unset = SPY, else AAPL, whichever has real history.")
    performance_risk_free_rate: float = Field(
        0.0, gt=-1.0, le=1.0,
        description="Annual risk-free rate of the performance summary's Sharpe and Sortino "
                    "(0.04 = 4 %), converted to daily as (1 + rate)^(1/252) - 1.")
