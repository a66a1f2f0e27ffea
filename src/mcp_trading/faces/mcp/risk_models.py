"""Outputs of the risk-analytics tools (VaR/ES, stress, concentration): the fields agents rely
on, the rest allowed. Money travels as strings, fractions as numbers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ConcentrationOut", "StressOut", "VarOut"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class VarOut(_Out):
    account_id: str
    equity: str
    figures: list[dict[str, Any]]
    excluded: list[dict[str, str]]
    window: dict[str, Any] | None


class StressOut(_Out):
    account_id: str
    equity: str
    scenarios: list[dict[str, Any]]
    excluded: list[dict[str, str]]


class ConcentrationOut(_Out):
    account_id: str
    largest: list[dict[str, Any]]
    hhi: float
