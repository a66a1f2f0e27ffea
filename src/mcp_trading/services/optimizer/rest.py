"""ml-portfolio-optimizer :8052 — optimisation, frontier, evaluation, runs and rebalances over
REST (routes only: service.py, rebalance.py)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Path, Query, Request
from starlette.responses import HTMLResponse, Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer.inputs import (
    ConfirmBody,
    EvaluateBody,
    FrontierBody,
    OptimizeBody,
    RebalanceBody,
)
from mcp_trading.services.optimizer.runs import MAX_LIST
from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["build"]

#: as the page's own meta CSP: nothing may be fetched, no script runs
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_RUN_ID = Path(..., min_length=1, max_length=64, description="A run id (POST /optimize)")
_PREVIEW_ID = Path(..., min_length=1, max_length=64,
                   description="A preview id (POST /rebalance)")


def build(platform: Platform) -> FastAPI:
    svc = OptimizerService.for_platform(platform)
    router = APIRouter()
    _compute_routes(router, svc)
    _run_routes(router, svc)
    _rebalance_routes(router, svc)
    return create_app(platform, "optimizer", routers=[router], health=svc.health,
                      description="ml-portfolio-optimizer: portfolio optimisation on the stored "
                                  "history (estimators, methods, constraints), the efficient "
                                  "frontier, walk-forward evaluation, stored runs with HTML "
                                  "reports, and rebalances through the kernel's pre-trade "
                                  "checks (preview, then confirm).")


def _compute_routes(router: APIRouter, svc: OptimizerService) -> None:
    @router.post("/optimize", tags=["optimize"],
                 summary="Optimise: weights (decimal strings summing to 1 - cash_buffer), "
                         "expected return, volatility, Sharpe, risk contributions, diagnostics",
                 openapi_extra=schema_of(OptimizeBody))
    async def optimize(request: Request) -> Response:
        return FastJSON(await svc.optimize(principal_of(request), await json_body(request)))

    @router.post("/frontier", tags=["optimize"],
                 summary="The efficient frontier (points) with the method's portfolio",
                 openapi_extra=schema_of(FrontierBody))
    async def frontier(request: Request) -> Response:
        return FastJSON(await svc.frontier(principal_of(request), await json_body(request)))

    @router.post("/evaluate", tags=["optimize"],
                 summary="Walk-forward evaluation of methods (and estimators) side by side",
                 openapi_extra=schema_of(EvaluateBody))
    async def evaluate(request: Request) -> Response:
        return FastJSON(await svc.evaluate(principal_of(request), await json_body(request)))

    @router.get("/methods", tags=["optimize"],
                summary="Every method and estimator with its options and their units")
    async def methods(request: Request) -> Response:
        return FastJSON(await svc.methods(principal_of(request)))


def _run_routes(router: APIRouter, svc: OptimizerService) -> None:
    @router.get("/runs", tags=["runs"], summary="Stored runs, newest first")
    async def runs(request: Request, limit: int = Query(50, ge=1, le=MAX_LIST),
                   offset: int = Query(0, ge=0, le=10_000_000)) -> Response:
        return FastJSON(await svc.runs(principal_of(request), limit=limit, offset=offset))

    @router.get("/runs/{run_id}", tags=["runs"],
                summary="A stored run: its request and prices (to reproduce it) and answer")
    async def run(request: Request, run_id: str = _RUN_ID) -> Response:
        return FastJSON(await svc.run(principal_of(request), run_id))

    @router.get("/runs/{run_id}/report.html", tags=["runs"], response_class=HTMLResponse,
                summary="The run's report: weights and frontier charts (offline HTML)")
    async def report(request: Request, run_id: str = _RUN_ID) -> Response:
        html = await svc.report(principal_of(request), run_id)
        return HTMLResponse(html, headers={"Content-Security-Policy": _CSP,
                                           "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "no-store"})


def _rebalance_routes(router: APIRouter, svc: OptimizerService) -> None:
    @router.post("/rebalance", tags=["rebalance"],
                 summary="Preview (trader): the orders that move an account to a target, each "
                         "with the kernel's dry-run answer, and a 10-minute confirmation token",
                 openapi_extra=schema_of(RebalanceBody))
    async def rebalance(request: Request) -> Response:
        return FastJSON(await svc.rebalance_preview(principal_of(request),
                                                    await json_body(request)))

    @router.post("/rebalance/{preview_id}/confirm", tags=["rebalance"],
                 summary="Confirm (trader): check every order again, then place all or none, "
                         "sells first",
                 openapi_extra=schema_of(ConfirmBody))
    async def confirm(request: Request, preview_id: str = _PREVIEW_ID) -> Response:
        return FastJSON(await svc.rebalance_confirm(principal_of(request), preview_id,
                                                    await json_body(request)))
