"""alerts :8100 — alerts, acknowledgement, maintenance mode and the platform's health summary."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.alerts.service import MAX_ALERTS, AlertsService, FailingChecks

__all__ = ["MaintenanceBody", "build"]


class MaintenanceBody(BaseModel):
    reason: str | None = Field(None, description="Recorded in the journal and emergency.log")


def build(platform: Platform, *, failing_checks: FailingChecks | None = None) -> FastAPI:
    """`failing_checks()` returns the failing comprehensive health checks ("name: detail";
    default: the platform's). The alert watcher is the spec's task."""
    svc = AlertsService.for_platform(platform, failing_checks)
    router = APIRouter()

    @router.get("/alerts", tags=["alerts"], summary="Alerts, newest first")
    async def list_alerts(request: Request,
                          acknowledged: bool | None = Query(
                              None, description="true: only acknowledged; false: only open"),
                          limit: int = Query(100, ge=1, le=MAX_ALERTS)) -> Response:
        return FastJSON(svc.list_alerts(principal_of(request), acknowledged=acknowledged,
                                        limit=limit))

    @router.post("/alerts/{alert_id}/acknowledge", tags=["alerts"],
                 summary="Acknowledge an alert (trader or above)")
    async def acknowledge(request: Request, alert_id: int) -> Response:
        return FastJSON(svc.acknowledge(principal_of(request), alert_id))

    @router.post("/alerts/maintenance-start", tags=["maintenance"],
                 summary="Enter maintenance: new orders are refused (MAINTENANCE) until complete",
                 openapi_extra=schema_of(MaintenanceBody, required=False))
    async def maintenance_start(request: Request) -> Response:
        return FastJSON(await svc.maintenance(principal_of(request), active=True,
                                              body=await json_body(request, allow_empty=True)))

    @router.post("/alerts/maintenance-complete", tags=["maintenance"],
                 summary="Leave maintenance: new orders are accepted again",
                 openapi_extra=schema_of(MaintenanceBody, required=False))
    async def maintenance_complete(request: Request) -> Response:
        return FastJSON(await svc.maintenance(principal_of(request), active=False,
                                              body=await json_body(request, allow_empty=True)))

    return create_app(platform, "alerts", routers=[router], health=svc.health,
                      description="Alerts and notifications, maintenance mode, platform health.")
