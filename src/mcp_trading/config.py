"""Settings from the environment and `.env` (pydantic-settings). Every setting is documented.

Environment variables are upper case with the `MCP_TRADING_` prefix, except the
conventional `DATABASE_URL`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_trading.domain.models import CommissionModel, LatencyModel, SlippageModel
from mcp_trading.kernel.kernel import KernelConfig

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    data_dir: Path = Field(Path("var"), description="Where the journal, logs and reports live.")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "MCP_TRADING_DATABASE_URL"),
        description="sqlite:///path or postgresql://user@host/db; default: SQLite in data_dir.")
    default_account: str = Field("paper", description="Paper account created on first start.")
    default_cash: Decimal = Field(Decimal(100_000), ge=0, description="Its starting cash (USD).")
    calendar: Literal["always_open", "nyse"] = Field(
        "always_open", description="Session calendar for the simulator feed (nyse: XNYS hours).")
    commission_per_share: Decimal = Field(Decimal(0), ge=0, description="Commission per share.")
    commission_bps: Decimal = Field(Decimal(0), ge=0, description="Commission, bps of notional.")
    commission_min: Decimal = Field(Decimal(0), ge=0, description="Minimum commission per fill.")
    slippage_bps: Decimal = Field(Decimal(0), ge=0, description="Adverse fill slippage in bps.")
    latency_ms: int = Field(0, ge=0, description="Order latency to the paper venue (ms).")
    snapshot_every: int = Field(100_000, ge=0, description="Snapshot every N events (0: never).")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trading.db').resolve()}"

    def kernel_config(self) -> KernelConfig:
        return KernelConfig(
            default_account=self.default_account,
            default_cash=self.default_cash,
            commission=CommissionModel(per_share=self.commission_per_share, bps=self.commission_bps,
                                       minimum=self.commission_min),
            slippage=SlippageModel(bps=self.slippage_bps),
            latency=LatencyModel(order_ns=self.latency_ms * 1_000_000),
        )
