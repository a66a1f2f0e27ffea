"""The trading-strategies tools' outputs (as models.py: the fields agents rely on, the rest
allowed). Metrics are floats or null (undefined, e.g. a Sharpe ratio without returns)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["BacktestCompareOut", "BacktestOut", "BacktestRunOut", "StrategiesOut"]

Status = Literal["queued", "running", "done", "failed", "cancelled"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class StrategiesOut(_Out):
    strategies: list[dict[str, Any]]  # name, doc, summary, params (a JSON schema), origin
    problems: list[dict[str, str]]  # user strategies that failed to load: source, error


class BacktestRunOut(_Out):
    """A finished run's summary, or the id to poll with get_backtest."""

    id: str
    status: Status
    summary: dict[str, Any] | None = None
    progress: dict[str, int] | None = None


class BacktestOut(_Out):
    id: str
    status: Status
    summary: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    progress: dict[str, int] | None = None
    error: dict[str, Any] | None = None


class BacktestCompareOut(_Out):
    ids: list[str]
    runs: list[dict[str, Any]]
