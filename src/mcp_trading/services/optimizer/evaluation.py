"""POST /evaluate: walk-forward evaluation of methods side by side (placeholder until the
core's evaluate.py lands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import UnavailableError

if TYPE_CHECKING:
    from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["evaluate_now"]


def evaluate_now(svc: OptimizerService, raw: Mapping[str, Any]) -> dict[str, Any]:
    raise UnavailableError("evaluate: not available yet", code="NOT_READY")
