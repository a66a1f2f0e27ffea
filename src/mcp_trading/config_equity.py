"""The equity history settings: a base class of `Settings` (config.py), like config_backup.py.

Environment names: `MCP_TRADING_EQUITY_CLOSE_SNAPSHOT`, `MCP_TRADING_EQUITY_SAMPLE_S`,
`MCP_TRADING_EQUITY_SAMPLE_KEEP_DAYS`.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EquitySettings"]

#: the sampling interval's bounds when it is on (0 turns it off)
MIN_SAMPLE_S, MAX_SAMPLE_S = 1.0, 3600.0


class EquitySettings(BaseSettings):
    """How often the portfolio service samples each account's equity for the intraday chart,
    and how many days of samples it keeps (older ones are pruned)."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    equity_close_snapshot: bool = Field(
        True, description="Journal an equity snapshot of every account at each session close "
                          "(the end-of-day equity history; backtests turn it off).")
    equity_sample_s: float = Field(
        60.0, description="Seconds between intraday equity samples per account (1-3600); "
                          "0 turns sampling off.")
    equity_sample_keep_days: int = Field(
        30, ge=1, le=3650, description="Days of intraday equity samples kept; older ones are "
                                       "pruned.")

    @field_validator("equity_sample_s")
    @classmethod
    def _sample_interval(cls, value: float) -> float:
        if value != 0 and not MIN_SAMPLE_S <= value <= MAX_SAMPLE_S:
            raise ValueError(f"equity_sample_s is {value}; give 0 (off) or {MIN_SAMPLE_S:g} to "
                             f"{MAX_SAMPLE_S:g} seconds")
        return value
