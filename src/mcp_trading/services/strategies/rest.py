"""trading-strategies :8090 — strategies and backtests over REST (routes only: service.py)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse, Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies import views
from mcp_trading.services.strategies.instances_rest import instance_routes
from mcp_trading.services.strategies.requests import MAX_WAIT_S, TIMEFRAMES
from mcp_trading.services.strategies.service import MAX_OFFSET, MAX_PAGE, StrategiesService

__all__ = ["BacktestBody", "build"]

#: as the page's own meta CSP (analytics/report.py): nothing may be fetched, no script runs
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_ID = Path(..., min_length=1, max_length=64, description="A backtest id (POST /backtests)")


class BacktestBody(BaseModel):
    strategy: str = Field(..., description="A strategy name (GET /strategies)")
    symbols: list[str] | str = Field(..., description="Symbols with stored history, or 'A,B'")
    start: str = Field(..., description="First day, YYYY-MM-DD")
    end: str = Field(..., description="Last day, YYYY-MM-DD (on or after start)")
    timeframe: str = Field("1Day", description=f"One of {', '.join(TIMEFRAMES)}")
    params: dict[str, object] = Field(default_factory=dict,
                                      description="The strategy's parameters (its schema)")
    cash: str | float = Field("100000", description="Starting cash")
    source: str | None = Field(None, description="The stored source to read (default: the "
                                                 "bar store's choice per symbol)")
    commission: dict[str, str | float] | None = Field(
        None, description="{per_share, bps, minimum}; default: the platform's settings")
    slippage_bps: str | float | None = Field(None, description="Adverse slippage per fill, "
                                                               "bps; default: the settings'")
    limits: str | dict[str, object] = Field(
        "none", description="none (the venue's rules only), live (the account's live limits), "
                            "or {limit: value}")
    wait_s: float = Field(30, ge=0, le=MAX_WAIT_S,
                          description="Answer 202 with the id to poll if the run takes longer")


def _html(text: str) -> Response:
    return HTMLResponse(text, headers={"Content-Security-Policy": _CSP,
                                       "X-Content-Type-Options": "nosniff",
                                       "Cache-Control": "no-store"})


def build(platform: Platform) -> FastAPI:
    svc = StrategiesService.for_platform(platform)
    router = APIRouter()
    _strategy_routes(router, svc)
    _run_routes(router, svc)
    _result_routes(router, svc)
    # the instance routes first: GET /strategies/{name} would take /strategies/instances
    return create_app(platform, "strategies", routers=[instance_routes(platform, svc), router],
                      health=svc.health,
                      description="trading-strategies: the strategies and their parameters, "
                                  "backtests on the platform's kernel with a simulated clock, "
                                  "their trades, equity, metrics and HTML reports.")


def _strategy_routes(router: APIRouter, svc: StrategiesService) -> None:
    @router.get("/strategies", tags=["strategies"],
                summary="Every strategy with its parameter schema and docstring, and the "
                        "user strategies that failed to load")
    async def list_strategies(request: Request) -> Response:
        return FastJSON(await svc.strategies(principal_of(request)))

    @router.get("/strategies/{name}", tags=["strategies"], summary="One strategy")
    async def get_strategy(request: Request, name: str = Path(..., max_length=64)) -> Response:
        return FastJSON(await svc.strategy(principal_of(request), name))


def _run_routes(router: APIRouter, svc: StrategiesService) -> None:
    @router.post("/backtests", tags=["backtests"], status_code=201,
                 summary="Run a backtest (trader): 201 with the summary, or 202 with the id to "
                         "poll when it runs longer than wait_s",
                 openapi_extra=schema_of(BacktestBody))
    async def run_backtest(request: Request) -> Response:
        submitted = await svc.submit(principal_of(request), await json_body(request))
        return FastJSON(submitted.body, status_code=submitted.status)

    @router.get("/backtests", tags=["backtests"], summary="Stored backtests, newest first")
    async def list_backtests(request: Request, limit: int = Query(50, ge=1, le=MAX_PAGE),
                             offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Response:
        return FastJSON(await svc.list_backtests(principal_of(request), limit=limit,
                                                 offset=offset))

    @router.delete("/backtests/{backtest_id}", tags=["backtests"],
                   summary="Delete a stored backtest, or cancel a running one (operator)")
    async def delete(request: Request, backtest_id: str = _ID) -> Response:
        return FastJSON(await svc.delete(principal_of(request), backtest_id))


def _result_routes(router: APIRouter, svc: StrategiesService) -> None:
    # /backtests/compare before /backtests/{backtest_id}: the first route that matches wins
    @router.get("/backtests/compare", tags=["backtests"],
                summary="Several backtests side by side (ids=a,b)")
    async def compare(request: Request, ids: str = Query(..., max_length=1000)) -> Response:
        return FastJSON(views.compare_view(await svc.compare(principal_of(request), ids)))

    @router.get("/backtests/compare.html", tags=["backtests"], response_class=HTMLResponse,
                summary="The comparison as a self-contained HTML page")
    async def compare_html(request: Request, ids: str = Query(..., max_length=1000)) -> Response:
        return _html(views.compare_html(await svc.compare(principal_of(request), ids)))

    @router.get("/backtests/{backtest_id}", tags=["backtests"],
                summary="A backtest: status (queued, running, done, failed), summary, metrics")
    async def get_backtest(request: Request, backtest_id: str = _ID) -> Response:
        return FastJSON(await svc.get(principal_of(request), backtest_id))

    @router.get("/backtests/{backtest_id}/trades", tags=["backtests"],
                summary="The round-trip trades of a finished backtest")
    async def trades(request: Request, backtest_id: str = _ID,
                     limit: int = Query(MAX_PAGE, ge=1, le=10 * MAX_PAGE),
                     offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Response:
        result = await svc.result(principal_of(request), backtest_id)
        return FastJSON(views.trades_view(result, limit=limit, offset=offset))

    @router.get("/backtests/{backtest_id}/equity", tags=["backtests"],
                summary="The daily equity curve, cash and exposure of a finished backtest")
    async def equity(request: Request, backtest_id: str = _ID) -> Response:
        return FastJSON(views.equity_view(await svc.result(principal_of(request), backtest_id)))

    @router.get("/backtests/{backtest_id}/report.html", tags=["backtests"],
                response_class=HTMLResponse,
                summary="The report: equity and drawdown charts, metrics, trades (offline HTML)")
    async def report(request: Request, backtest_id: str = _ID) -> Response:
        return _html(views.run_html(await svc.result(principal_of(request), backtest_id)))
