"""portfolio :8013 — valuations and P&L per account and in total, positions with marks."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio.reports import ReportsService
from mcp_trading.services.portfolio.service import PortfolioService

__all__ = ["build"]


def build(platform: Platform) -> FastAPI:
    svc = PortfolioService(platform.core)
    stored = ReportsService(platform.settings.resolved_database_url)
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

    @router.get("/portfolio/reports", tags=["reports"],
                summary="The stored end-of-day reports (newest day first), optionally of one date")
    async def reports(request: Request, date: str | None = Query(
            None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")) -> Response:
        return FastJSON(stored.list(principal_of(request), date))

    @router.get("/portfolio/reports/{date}/{name}", tags=["reports"],
                summary="One stored report: JSON, or the HTML page (?format=html or NAME.html)")
    async def report(request: Request, date: str, name: str, format: str | None = Query(
            None, pattern="^(json|html|txt)$")) -> Response:
        text, media = stored.get(principal_of(request), date, name, format)
        return Response(text, media_type=media)

    return create_app(platform, "portfolio", routers=[router],
                      description="Portfolio valuations and P&L from the kernel's marked book.")
