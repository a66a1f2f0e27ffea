"""The optimizer tools' outputs (as models.py: the fields agents rely on, the rest allowed).
Figures are floats or null (undefined, e.g. a Sharpe ratio at zero volatility); weights are
decimal strings summing to 1 - cash_buffer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["EvaluationOut", "FrontierOut", "MethodsOut", "OptimizationOut", "RebalanceOut",
           "RebalancePreviewOut"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class OptimizationOut(_Out):
    run_id: str
    method: str
    weights: dict[str, str]
    expected_return: float | None = None
    volatility: float | None = None
    sharpe: float | None = None
    risk_contributions: dict[str, float]
    diagnostics: dict[str, Any]
    estimators: dict[str, str]


class FrontierOut(OptimizationOut):
    points: list[dict[str, Any]]
    assets: list[dict[str, Any]]


class EvaluationOut(_Out):
    run_id: str
    results: list[dict[str, Any]]


class MethodsOut(_Out):
    methods: list[dict[str, Any]]
    expected_returns: list[dict[str, Any]]
    covariance: list[dict[str, Any]]


class RebalancePreviewOut(_Out):
    preview_id: str
    confirmation_token: str
    expires_at: str
    account_id: str
    would_accept_all: bool
    orders: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


class RebalanceOut(_Out):
    preview_id: str
    status: str  # placed | incomplete (a refused list is an error: nothing placed)
    placed: int
    summary: str
    orders: list[dict[str, Any]]
