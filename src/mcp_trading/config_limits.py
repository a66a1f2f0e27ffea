"""The risk limits a new platform starts with: a base class of `Settings` (config.py).

A fresh journal records them as its first limit change (actor "platform:defaults", in
`GET :8012/limits/audit`); each account opened gets the per-account order rate. After that
they are the platform's limits like any other: change them with `PUT :8012/limits` (null
turns one off). A journal that already holds events keeps the limits it has.

Environment names: `MCP_TRADING_DEFAULT_PRICE_COLLAR_PCT`, `..._DEFAULT_MAX_ORDER_NOTIONAL`,
`..._DEFAULT_MAX_ORDER_QTY`, `..._DEFAULT_MAX_ORDERS_PER_SECOND`; `none` leaves one off.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LimitSettings"]


class LimitSettings(BaseSettings):
    """Sane starting limits, so a limit buy of AAPL at $1 is refused out of the box."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    default_price_collar_pct: Decimal | None = Field(
        Decimal(10), gt=0, le=100, description="Starting global price collar: limit and stop "
        "prices within this % of the reference price (a fat-finger guard); none: off.")
    default_max_order_notional: Decimal | None = Field(
        Decimal(1_000_000), gt=0, description="Starting global maximum notional (qty x price) "
                                              "of one order; none: off.")
    default_max_order_qty: Decimal | None = Field(
        Decimal(100_000), gt=0, description="Starting global maximum quantity of one order; "
                                            "none: off.")
    default_max_orders_per_second: int | None = Field(
        1000, gt=0, le=1_000_000, description="Starting order rate limit of each account "
        "opened (a runaway-agent guard); none: off.")

    @field_validator("default_price_collar_pct", "default_max_order_notional",
                     "default_max_order_qty", "default_max_orders_per_second", mode="before")
    @classmethod
    def _none_word(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    def initial_limits(self) -> dict[str, object] | None:
        """The global limits a fresh journal records (None: none set)."""
        chosen = {"price_collar_pct": self.default_price_collar_pct,
                  "max_order_notional": self.default_max_order_notional,
                  "max_order_qty": self.default_max_order_qty}
        kept: dict[str, object] = {k: v for k, v in chosen.items() if v is not None}
        return kept or None

    def account_limits(self) -> dict[str, object] | None:
        """The limits each account opened starts with (None: none set)."""
        rate = self.default_max_orders_per_second
        return None if rate is None else {"max_orders_per_second": rate}
