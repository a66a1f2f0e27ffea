"""Outputs of the equity history tool: the fields agents rely on, the rest allowed. Money
travels as exact decimal strings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["EquityHistoryOut"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class EquityHistoryOut(_Out):
    interval: str
    since: str | None
    as_of: str | None
    accounts: list[dict[str, Any]]
