"""The feed, replay and provider settings: a base class of `Settings` (config.py).

Kept apart so config.py stays one readable room; the environment names are the same
(`MCP_TRADING_FEED`, `MCP_TRADING_REPLAY_*`, `MCP_TRADING_ALPHAVANTAGE_*`,
`MCP_TRADING_PROVIDER_*`, `MCP_TRADING_FILES_*`).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mcp_trading.domain.numbers import BPS, parse_decimal

__all__ = ["FeedSettings", "config_error", "listed"]


def config_error(field: str, message: str) -> ValueError:
    return ValueError(f"{field}: {message}")


class FeedSettings(BaseSettings):
    """The live feed (simulator or replay), the replay, and the market-data providers."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    # feed
    feed: Literal["simulator", "replay"] = Field(
        "simulator", description="The live quote feed: simulator (seeded random walk, not market "
                                 "data) or replay (stored history bars played back as quotes; "
                                 "the MCP_TRADING_REPLAY_* settings).")
    replay_source: str | None = Field(
        None, description="Replay: the bar source to play (e.g. sample, import:aapl); default, "
                          "per symbol, the stored source that covers most of the range (never "
                          "simulator).")
    replay_start: date | None = Field(
        None, description="Replay: the first day played (ISO date); default the first stored.")
    replay_end: date | None = Field(
        None, description="Replay: the last day played (ISO date, inclusive); default the last "
                          "stored. The feed then goes stale.")
    replay_speed: float = Field(
        1.0, ge=0, allow_inf_nan=False,
        description="Replay: N× real time between bars (> 0), or 0: stepped by command.")
    replay_timeframe: Literal["1Min", "1Day"] = Field(
        "1Day", description="Replay: the stored bars played (4 quotes per bar).")
    replay_spread_bps: Decimal = Field(
        Decimal(2), description="Replay: the quoted spread around each mark, bps (> 0).")
    replay_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Replay: the symbols played (comma-separated or JSON); "
                                          "default every symbol stored at the timeframe.")

    # providers
    alphavantage_api_key: SecretStr | None = Field(
        None, description="Alpha Vantage API key; unset: the alphavantage provider is off. Never "
                          "shown in a response, log line or error.")
    alphavantage_base_url: str = Field(
        "https://www.alphavantage.co/query", description="Alpha Vantage's query endpoint.")
    alphavantage_calls_per_minute: int = Field(
        5, ge=1, description="Client-side limit: Alpha Vantage calls per minute (your plan's).")
    alphavantage_calls_per_day: int = Field(
        25, ge=1, description="Client-side limit: Alpha Vantage calls per day (your plan's).")
    alphavantage_timeout_s: float = Field(
        10.0, gt=0, description="Alpha Vantage request timeout (connect and read).")
    provider_chain_quotes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["simulator"],
        description="Quote providers in failover order (comma list).")
    provider_chain_daily: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Daily-bar providers in failover order (comma list); default "
                          "files when MCP_TRADING_FILES_DIR is set, then alphavantage when its "
                          "key is set; none: history from the store only.")
    provider_chain_intraday: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Intraday-bar providers in failover order (comma list); default as "
                          "for daily.")
    provider_failure_threshold: int = Field(
        3, ge=1, description="Consecutive failures that open a provider's circuit.")
    provider_cool_down_s: float = Field(
        60.0, gt=0, description="How long an open circuit rests before a half-open probe.")
    provider_quote_max_age_s: float = Field(
        900.0, gt=0, description="A fetched quote older than this is stale: the chain tries the "
                                 "next provider.")

    files_dir: Path | None = Field(
        None, description="The files provider: a directory of CSV/Parquet bar files (the "
                          "layouts `mcp-trading data import` reads), watched; each new or "
                          "changed file is imported (all or nothing) under the source files. "
                          "Unset: the provider is off.")
    files_poll_s: float = Field(
        5.0, gt=0, description="The files provider: how often the directory is scanned (a "
                               "file is imported once it is unchanged for one interval).")

    @field_validator("provider_chain_quotes", "provider_chain_daily", "provider_chain_intraday",
                     mode="before")
    @classmethod
    def _chain(cls, value: Any, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        name = info.field_name or "provider_chain"
        names = [item.strip().lower() for item in listed(value, name) if item.strip()]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: {names} names a provider twice; list each once")
        return names

    def provider_chain(self, kind: str) -> list[str]:
        """The failover order of one data kind (quotes, daily, intraday), defaults resolved."""
        chain: list[str] | None = getattr(self, f"provider_chain_{kind}")
        if chain is not None:
            return chain
        chain = ["files"] if self.files_dir is not None else []
        return chain + (["alphavantage"] if self.alphavantage_api_key is not None else [])

    @field_validator("replay_symbols", mode="before")
    @classmethod
    def _replay_symbols(cls, value: Any) -> list[str]:
        names = [item.strip().upper() for item in listed(value, "replay_symbols")]
        return list(dict.fromkeys(name for name in names if name))

    @model_validator(mode="after")
    def _replay_range(self) -> FeedSettings:
        if not self.replay_spread_bps > 0:
            raise config_error("replay_spread_bps", "MCP_TRADING_REPLAY_SPREAD_BPS must be > 0 "
                                "(a zero spread locks the book), e.g. 2")
        start, end = self.replay_start, self.replay_end
        if start is not None and end is not None and end < start:
            raise config_error("replay_end", f"MCP_TRADING_REPLAY_END ({end}) is before "
                                f"MCP_TRADING_REPLAY_START ({start}); give an end on or after "
                                "the start")
        return self

    @field_validator("replay_spread_bps", mode="before")
    @classmethod
    def _spread(cls, value: object) -> Decimal:
        return parse_decimal("replay_spread_bps", value, BPS, error=config_error)


def listed(value: Any, name: str) -> list[str]:
    """A list setting given as a list, a JSON array or comma-separated text."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{name}: not a JSON array ({exc}); or give the values "
                                 "comma-separated") from None
        else:
            return text.split(",") if text else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: must be a list of strings")
    return value
