"""orders :8011 — order listings with filters and paging, order history, cancel-all-pending."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.schemas import schema_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.orders.service import MAX_PAGE, OrdersService

__all__ = ["MAX_OFFSET", "CancelAllBody", "build"]

MAX_OFFSET = 10_000_000  # more matching orders than one listing ever skips; cursor pages on


class CancelAllBody(BaseModel):
    """Every field is optional; an empty body cancels every working order."""

    reason: str | None = Field(None, description="Recorded in emergency.log and on each order")
    symbol: str | None = Field(None, description="Only orders in this symbol")
    account_id: str | None = Field(None, description="Only orders of this account")


def build(platform: Platform) -> FastAPI:
    svc = OrdersService(platform.core)
    router = APIRouter()

    @router.get("/orders", tags=["orders"], summary="List orders, newest first")
    async def list_orders(
        request: Request,
        *,
        status: str = Query("open", description="open | closed | all | an exact order status"),
        symbol: str | None = Query(None, max_length=32),
        account_id: str | None = Query(None, max_length=64,
                                       description="Internal accounts ('_…') only when named"),
        after: str | None = Query(None, description="Created at or after (ISO 8601)"),
        until: str | None = Query(None, description="Created at or before (ISO 8601)"),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        cursor: str | None = Query(None, description="next_cursor of the previous page"),
        offset: int = Query(0, ge=0, le=MAX_OFFSET,
                            description="Skip this many matching orders (page with cursor)"),
    ) -> Response:
        return FastJSON(svc.list_orders(principal_of(request), status=status, symbol=symbol,
                                        account_id=account_id, after=after, until=until,
                                        limit=limit, cursor=cursor, offset=offset))

    @router.get("/orders/{order_id}/history", tags=["orders"],
                summary="Every journaled event of one order, oldest first")
    async def history(request: Request, order_id: str) -> Response:
        return FastJSON(await svc.history(principal_of(request), order_id))

    @router.post("/orders/cancel-all-pending", tags=["emergency"],
                 summary="Cancel every working order (operator); logged to emergency.log",
                 openapi_extra=schema_of(CancelAllBody, required=False))
    async def cancel_all_pending(request: Request) -> Response:
        body = await json_body(request, allow_empty=True)
        return FastJSON(await svc.cancel_all_pending(principal_of(request), body))

    return create_app(platform, "orders", routers=[router],
                      description="Order views: listings, filters, history; cancel-all-pending.")
