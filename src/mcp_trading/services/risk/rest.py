"""risk :8012 — risk status, limits (read, change, audit), pre-trade dry run, exposures."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import LimitsBody, OrderBody, schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk.service import RiskService

__all__ = ["build"]


def build(platform: Platform) -> FastAPI:
    svc = RiskService(platform.core)
    router = APIRouter()

    @router.get("/limits", tags=["limits"], summary="Global and per-account risk limits")
    async def limits(request: Request, account_id: str | None = Query(None, max_length=64)
                     ) -> Response:
        return FastJSON(svc.limits(principal_of(request), account_id))

    @router.put("/limits/global", tags=["limits"],
                summary="Change global limits (operator; journaled and audited)",
                openapi_extra=schema_of(LimitsBody))
    async def set_global(request: Request) -> Response:
        return FastJSON(await svc.set_limits(principal_of(request), None, await json_body(request)))

    @router.put("/limits/accounts/{account_id}", tags=["limits"],
                summary="Change one account's limits (operator; journaled and audited)",
                openapi_extra=schema_of(LimitsBody))
    async def set_account(request: Request, account_id: str) -> Response:
        return FastJSON(await svc.set_limits(principal_of(request), account_id,
                                             await json_body(request)))

    @router.get("/limits/audit", tags=["limits"], summary="Every limit change, newest first")
    async def audit(request: Request, limit: int = Query(100, ge=1, le=1000)) -> Response:
        return FastJSON(await svc.audit(principal_of(request), limit=limit))

    @router.post("/check", tags=["pre-trade"],
                 summary="Pre-trade dry run: would this order be accepted? (nothing is placed)",
                 openapi_extra=schema_of(OrderBody))
    async def check(request: Request) -> Response:
        return FastJSON(svc.check(principal_of(request), await json_body(request)))

    @router.get("/exposures", tags=["exposure"],
                summary="Gross/net exposure per account and in total, with limit utilisation")
    async def exposures(request: Request, account_id: str | None = Query(None, max_length=64)
                        ) -> Response:
        return FastJSON(svc.exposures(principal_of(request), account_id))

    return create_app(platform, "risk", routers=[router],
                      description="Risk: status (ok / warning / breach), limits and their audit "
                                  "trail, pre-trade dry runs, exposures and utilisation.")
