"""The log settings: a base class of `Settings` (config.py), like config_backup.py.

Environment names: `MCP_TRADING_LOG_ROTATION` (internal|external), `MCP_TRADING_LOG_MAX_MB`,
`MCP_TRADING_LOG_ROTATE_HOURS`, `MCP_TRADING_LOG_KEEP_DAYS`, `MCP_TRADING_LOG_QUEUE`,
`MCP_TRADING_LOG_FORMAT`. Where the logs go is `MCP_TRADING_LOG_DIR` (config.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LogSettings"]


class LogSettings(BaseSettings):
    """How the platform's log files rotate and what their lines look like."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    log_rotation: Literal["internal", "external"] = Field(
        "internal", description="internal: the platform rotates its *.log files itself (size "
                                "and age, gzip, retention); external: it never does, and "
                                "reopens them on SIGHUP (or when moved) for logrotate "
                                "(deploy/logrotate/trading-platform). Never both on one file.")
    log_max_mb: int = Field(
        50, ge=1, le=10_000, description="Internal rotation: a log file reaching this size "
                                         "(MiB) is rotated.")
    log_rotate_hours: float = Field(
        24.0, gt=0, le=24 * 366, description="Internal rotation: and one this old is rotated "
                                             "too, whatever its size.")
    log_keep_days: int = Field(
        30, ge=1, le=3650, description="Internal rotation: rotated archives (*.gz) older "
                                       "than this many days are deleted.")
    log_queue: int = Field(
        10_000, ge=10, le=1_000_000,
        description="Order-lifecycle log: journal batches waiting to be written; when full a "
                    "batch's lines are dropped and counted (mcp_trading_log_lines_dropped), "
                    "never waited for.")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="Log lines: JSON (one object a line) or readable console lines; "
                            "auto: JSON in the production profile, console in dev.")
