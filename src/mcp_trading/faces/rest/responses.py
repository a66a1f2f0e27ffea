"""Response bodies as documented in OpenAPI (the routes answer with FastJSON; these models
only describe what they send, so `/docs` shows real fields instead of `"type": "string"`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ORDER_RESPONSES", "SELFTEST_RESPONSES", "BatchResults", "ErrorBody", "OrderView",
           "RejectedOrder", "SelfTestReport"]

_Text = str | None


class OrderView(BaseModel):
    """One order, as every order route answers it (numbers are decimal strings)."""

    model_config = ConfigDict(extra="allow")

    id: str
    client_order_id: _Text
    account_id: str
    created_at: _Text
    updated_at: _Text
    submitted_at: _Text
    filled_at: _Text
    canceled_at: _Text
    expired_at: _Text
    replaced_at: _Text
    replaced_by: _Text
    replaces: _Text
    symbol: str
    qty: _Text
    filled_qty: _Text
    filled_avg_price: _Text
    side: Literal["buy", "sell"]
    type: str = Field(description="market | limit | stop | stop_limit | trailing_stop")
    order_type: str
    time_in_force: str
    limit_price: _Text
    stop_price: _Text
    trail_price: _Text
    trail_percent: _Text
    hwm: _Text = Field(description="a trailing stop's watermark")
    status: _Text
    extended_hours: bool
    reject_code: _Text
    reject_reason: _Text
    attribution: _Text


class ErrorBody(BaseModel):
    """Every refusal: a stable code, what was wrong and how to fix it, the field if one."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: _Text = None


class RejectedOrder(ErrorBody):
    """An order journaled as rejected (risk or the trading state): its reason and the order."""

    order: OrderView


class BatchResults(BaseModel):
    """One result per order, in request order: an order view, or an error body with `order`
    when it was rejected."""

    results: list[dict[str, Any]]


class SelfTestReport(BaseModel):
    result: Literal["pass", "fail"]
    total_ms: float
    account: str
    stages: list[dict[str, Any]] = Field(description="{stage, ok, ms, error?} per stage")
    detail: _Text = None


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No credential, or an invalid or revoked one"},
    403: {"model": ErrorBody, "description": "Below the role, or another account's"},
    422: {"model": ErrorBody, "description": "A field is invalid (named in `field`)"},
    503: {"model": ErrorBody, "description": "Not accepting orders now (halted, stopping...)"},
}
ORDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS, 200: {"model": OrderView, "description": "The order (acknowledged = journaled)"},
    403: {"model": RejectedOrder, "description": "Rejected by risk or the trading state, or "
                                                 "not allowed"}}
SELFTEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS, 200: {"model": SelfTestReport, "description": "The self-test passed"},
    503: {"model": SelfTestReport, "description": "A stage failed (named in `stages`)"}}
