"""Request bodies as documented in OpenAPI. Parsing itself is the domain's (clear field errors).

Numbers may be JSON numbers or numeric strings; the domain parses each with the bounds stated
in its description (domain/numbers.py), and anything outside them is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from mcp_trading.domain.numbers import PRICE, QUANTITY
from mcp_trading.domain.risk import LIMIT_BOUNDS
from mcp_trading.faces.order_schema import OrderFields

__all__ = ["BatchBody", "EmergencyBody", "LimitsBody", "OrderBody", "ReplaceBody", "ResumeBody", "schema_of"]

Number = float | str
_QTY = f"; {QUANTITY.describe()}"
_PRICE = f"; {PRICE.describe()}"


#: POST /orders, /check and each order of /orders/batch: the one order schema, the same
#: fields the MCP order tools take as their arguments
OrderBody = OrderFields


class BatchBody(BaseModel):
    """Independent orders (not all-or-nothing); each result carries its own status."""

    orders: list[OrderBody] = Field(min_length=1, max_length=500)


class ReplaceBody(BaseModel):
    qty: Number | None = Field(None, description="The new quantity" + _QTY)
    limit_price: Number | None = Field(None, description="The new limit price" + _PRICE)
    stop_price: Number | None = Field(None, description="The new stop price" + _PRICE)
    trail: Number | None = Field(None, description="trailing_stop: the new trail, in the order's "
                                 "kind (price or percent)" + _PRICE)
    time_in_force: Literal["day", "gtc", "ioc", "fok"] | None = None
    client_order_id: str | None = Field(None, max_length=48)


class EmergencyBody(BaseModel):
    reason: str | None = Field(None, description="Recorded in emergency.log and the journal")


class ResumeBody(BaseModel):
    reason: str | None = None
    force: bool = Field(False, description="Admin only, with a reason: resume despite failing checks")


_LIMIT_FIELDS: dict[str, Any] = {
    "reason": (str | None, Field(None, description="Recorded in the audit trail")),
    **{name: (Number | None, Field(None, description=f"{bounds.what}: {bounds.describe()}; "
                                                     "null disables it"))
       for name, bounds in LIMIT_BOUNDS.items()},
}
#: Limit name -> value (number or numeric string) or null to disable, each with its bounds.
LimitsBody: type[BaseModel] = create_model(
    "LimitsBody", __config__=ConfigDict(extra="forbid"),
    __doc__="Limit name -> value (number or numeric string) or null to disable; at least one.",
    **_LIMIT_FIELDS)


def schema_of(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body the route parses itself."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}
