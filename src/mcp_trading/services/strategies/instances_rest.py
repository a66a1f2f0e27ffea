"""trading-strategies :8090 — live strategy instances over REST (routes only: instances.py).

    POST   /strategies/{name}/instances             start one (trader) → 201 with the instance
                                                    (?dry_run=true: 200, what it would start;
                                                    nothing journaled: the MCP preview)
    GET    /strategies/instances                    list (?account=, ?status=running|stopped)
    GET    /strategies/instances/{id}               one: status, orders, last error, log
    DELETE /strategies/instances/{id}?cancel_orders=true   stop it (trader of its account,
                                                    or operator)

Include this router BEFORE the one with `GET /strategies/{name}`, or that route takes
`/strategies/instances` for a strategy called "instances".
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, json_body, principal_of
from mcp_trading.faces.rest.schemas import schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies.instances import InstancesService
from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["InstanceBody", "instance_routes"]

_ID = Path(..., min_length=1, max_length=64, description="An instance id (POST .../instances)")


class InstanceBody(BaseModel):
    account: str | None = Field(None, description="The account it trades (default: the "
                                                  "credential's, else the default account)")
    symbols: list[str] | str = Field(..., description="Symbols the live feed quotes, or 'A,B'")
    timeframe: str | None = Field(None, description="1Min or 1Day (a replay: its own; "
                                                    "default: the feed's)")
    params: dict[str, object] = Field(default_factory=dict,
                                      description="The strategy's parameters (its schema)")


def instance_routes(platform: Platform, svc: StrategiesService) -> APIRouter:
    """The instance routes of the platform's strategies service."""
    instances = InstancesService(platform, svc)
    router = APIRouter()

    @router.get("/strategies/instances", tags=["instances"],
                summary="Live strategy instances (running and stopped)")
    async def list_instances(request: Request,
                             account: str | None = Query(None, max_length=64),
                             status: str | None = Query(None, max_length=16)) -> Response:
        return FastJSON(instances.list_instances(principal_of(request), account=account, status=status))

    @router.get("/strategies/instances/{instance_id}", tags=["instances"],
                summary="One instance: status, warm-up, bars, orders, refusals, last error, log")
    async def get_instance(request: Request, instance_id: str = _ID) -> Response:
        return FastJSON(instances.get(principal_of(request), instance_id))

    @router.delete("/strategies/instances/{instance_id}", tags=["instances"],
                   summary="Stop an instance (trader of its account, or operator); "
                           "cancel_orders=true also cancels its working orders")
    async def stop_instance(request: Request, instance_id: str = _ID,
                            cancel_orders: bool = Query(False)) -> Response:
        return FastJSON(await instances.stop(principal_of(request), instance_id,
                                             cancel_orders=cancel_orders))

    @router.post("/strategies/{name}/instances", tags=["instances"], status_code=201,
                 summary="Start a live paper instance of a strategy on an account (trader)",
                 openapi_extra=schema_of(InstanceBody))
    async def start_instance(request: Request, name: str = Path(..., max_length=64),
                             dry_run: bool = Query(False, description="Check only: answer "
                                                   "what would start, start nothing")
                             ) -> Response:
        body = await json_body(request)
        if dry_run:
            return FastJSON(await instances.check(principal_of(request), name, body))
        started = await instances.start(principal_of(request), name, body)
        return FastJSON(started, status_code=201)

    return router
