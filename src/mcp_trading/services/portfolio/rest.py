"""portfolio :8013 — valuations and P&L per account and in total, positions with marks."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio.service import PortfolioService

__all__ = ["build"]


def build(platform: Platform) -> FastAPI:
    svc = PortfolioService(platform.core)
    router = APIRouter()

    @router.get("/portfolio/summary", tags=["portfolio"],
                summary="Equity, cash, market value, P&L and return per account and in total")
    async def summary(request: Request, account_id: str | None = Query(None, max_length=64)
                      ) -> Response:
        return FastJSON(svc.summary(principal_of(request), account_id))

    @router.get("/portfolio/positions", tags=["portfolio"],
                summary="Open positions per account at their latest marks")
    async def positions(request: Request, account_id: str | None = Query(None, max_length=64)
                        ) -> Response:
        return FastJSON(svc.positions(principal_of(request), account_id))

    @router.get("/portfolio/performance", tags=["portfolio"],
                summary="Performance so far: return since start, today's P&L and drawdown")
    async def performance(request: Request, account_id: str | None = Query(None, max_length=64)
                          ) -> Response:
        return FastJSON(svc.performance(principal_of(request), account_id))

    return create_app(platform, "portfolio", routers=[router],
                      description="Portfolio valuations and P&L from the kernel's marked book.")
