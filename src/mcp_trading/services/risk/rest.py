"""risk :8012 — risk status, limits (read, change, audit), pre-trade dry run, exposures, VaR/ES,
stress tests and concentration."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import LimitsBody, OrderBody, schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk.analytics import RiskAnalytics
from mcp_trading.services.risk.service import RiskService
from mcp_trading.services.risk.stress import SCENARIOS_FILE, StressTests

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

    _analytics_routes(router, platform)
    return create_app(platform, "risk", routers=[router],
                      description="Risk: status (ok / warning / breach), limits and their audit "
                                  "trail, pre-trade dry runs, exposures and utilisation, VaR and "
                                  "expected shortfall, stress tests, concentration.")


def _analytics_routes(router: APIRouter, platform: Platform) -> None:
    analytics = RiskAnalytics(platform.core)
    stress_tests = StressTests(platform.core, platform.settings.data_dir / SCENARIOS_FILE)

    @router.get("/var", tags=["analytics"],
                summary="VaR and expected shortfall of an account's positions (historical, "
                        "parametric, cornish_fisher), with limit utilisation")
    async def var(request: Request, *, account: str | None = Query(None, max_length=64),
                  account_id: str | None = Query(None, max_length=64),
                  confidence: str | None = Query(None, max_length=200),
                  horizon: str | None = Query(None, max_length=200),
                  method: str | None = Query(None, max_length=200),
                  window: str | None = Query(None, max_length=10)
                  ) -> Response:
        return FastJSON(await analytics.var(principal_of(request), account_id=account or account_id,
                                            confidence=confidence, horizon=horizon,
                                            method=method, window=window))

    @router.get("/stress", tags=["analytics"],
                summary="Stress scenarios (historical replays, shocks, volatility x k) on an "
                        "account's positions today")
    async def stress(request: Request, *, account: str | None = Query(None, max_length=64),
                     account_id: str | None = Query(None, max_length=64),
                     scenario: str | None = Query(None, max_length=2000),
                     window: str | None = Query(None, max_length=10)) -> Response:
        return FastJSON(await stress_tests.stress(principal_of(request),
                                                  account_id=account or account_id,
                                                  scenario=scenario, window=window))

    @router.get("/concentration", tags=["analytics"],
                summary="Largest names (weight of equity) and HHI of an account's positions")
    async def concentration(request: Request, account: str | None = Query(None, max_length=64),
                            account_id: str | None = Query(None, max_length=64)) -> Response:
        return FastJSON(analytics.concentration(principal_of(request), account or account_id))
