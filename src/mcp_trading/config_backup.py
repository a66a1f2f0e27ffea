"""The backup settings: a base class of `Settings` (config.py), like config_feeds.py.

Environment names: `MCP_TRADING_BACKUP_DIR`, `MCP_TRADING_BACKUP_KEEP_DAILY`,
`MCP_TRADING_BACKUP_KEEP_WEEKLY`, `MCP_TRADING_BACKUP_MAX_AGE_HOURS`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BackupSettings"]


class BackupSettings(BaseSettings):
    """Where backups go, how many are kept, and when health calls the last one too old."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    backup_dir: Path | None = Field(
        None, description="Where `mcp-trading backup` writes (default <data_dir>/backups); "
                          "put it on another disk than the data directory in production.")
    backup_keep_daily: int = Field(
        7, ge=1, le=3650, description="Retention: the newest verified backup of each of this "
                                      "many most recent days is kept.")
    backup_keep_weekly: int = Field(
        4, ge=0, le=520, description="Retention: and the newest of each of this many most "
                                     "recent ISO weeks; every other backup is deleted.")
    backup_max_age_hours: float = Field(
        26.0, gt=0, description="Health: degraded (and one alert) when the last verified "
                                "backup is older than this; never before the first backup.")
