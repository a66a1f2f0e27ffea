"""Request bodies as documented in OpenAPI. Parsing itself is the domain's (clear field errors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["BatchBody", "EmergencyBody", "LimitsBody", "OrderBody", "ReplaceBody", "ResumeBody", "schema_of"]

Number = float | str


class OrderBody(BaseModel):
    """Alpaca's field names. Decimals may be sent as numbers or strings; they come back as strings."""

    symbol: str = Field(description="A known instrument, e.g. AAPL")
    qty: Number = Field(description="Quantity > 0, a multiple of the lot size")
    side: Literal["buy", "sell"]
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = "market"
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day"
    limit_price: Number | None = Field(None, description="Required for limit and stop_limit")
    stop_price: Number | None = Field(None, description="Required for stop and stop_limit")
    trail_price: Number | None = Field(None, description="trailing_stop: absolute trail")
    trail_percent: Number | None = Field(None, description="trailing_stop: trail in percent")
    client_order_id: str | None = Field(None, max_length=48,
                                        description="Your idempotency key, unique per account")
    extended_hours: bool = False
    account_id: str | None = Field(None, description="Operators only; keys act on their account")


class BatchBody(BaseModel):
    """Independent orders (not all-or-nothing); each result carries its own status."""

    orders: list[OrderBody] = Field(min_length=1, max_length=500)


class ReplaceBody(BaseModel):
    qty: Number | None = None
    limit_price: Number | None = None
    stop_price: Number | None = None
    trail: Number | None = None
    time_in_force: Literal["day", "gtc", "ioc", "fok"] | None = None
    client_order_id: str | None = Field(None, max_length=48)


class EmergencyBody(BaseModel):
    reason: str | None = Field(None, description="Recorded in emergency.log and the journal")


class ResumeBody(BaseModel):
    reason: str | None = None
    force: bool = Field(False, description="Admin only, with a reason: resume despite failing checks")


class LimitsBody(BaseModel):
    """Limit name -> value (number) or null to disable; see GET /limits for the names."""

    model_config = {"extra": "allow"}


def schema_of(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body the route parses itself."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}
