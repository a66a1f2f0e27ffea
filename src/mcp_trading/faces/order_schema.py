"""The one order schema: an order's fields as the REST body and the MCP order tools take them.

    OrderFields              the model (REST: OpenAPI of POST /orders, /orders/batch, /check;
                             MCP: the flat arguments of preview_order, submit_order, check_order)
    order_parameters()       the same fields as keyword-only parameters of a tool function
    order_payload(values)    the service payload: unset fields dropped, numbers canonical

Parsing is the domain's, not this model's: `OrderRequest.parse` and the bounds of
domain/numbers.py (named in each description) decide what an order is, so a bad value is a
4xx / error result naming the field and the bound, the same on both faces. The model checks
only JSON types (where MCP validates arguments) and documents them. Money and quantities are
accepted as JSON numbers or numeric strings and always returned as strings.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from mcp_trading.domain.numbers import PERCENT, PRICE, QUANTITY, parse_decimal, to_text
from mcp_trading.domain.orders import MAX_CLIENT_ORDER_ID, ORDER_NUMBERS

__all__ = ["Number", "OrderFields", "order_parameters", "order_payload"]

#: A decimal as clients send it: a JSON number or a numeric string (strict: no bool, no
#: float coercion of big integers). Only the type is checked here; the domain parses the
#: value with its bounds. Documented as number-or-string, as the REST API always has been.
Number = Annotated[StrictStr | StrictInt | StrictFloat,
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]})]

_QTY = f"; {QUANTITY.describe()}"
_PRICE = f"; {PRICE.describe()}"


class OrderFields(BaseModel):
    """Alpaca's field names. Decimals may be sent as numbers or strings; they come back as strings."""

    # unknown fields are refused by the parser (REST: OrderRequest.parse) and, for MCP, by
    # the order tools' argument check (mcp/order_args.py), each naming the field

    symbol: str = Field(description="A known instrument, e.g. AAPL (see list_symbols)")
    qty: Number = Field(description="Quantity, a multiple of the lot size" + _QTY)
    side: Literal["buy", "sell"] = Field(description="buy or sell")
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = Field(
        "market", description="Order type; limit and stop_limit need limit_price, stop and "
                              "stop_limit need stop_price, trailing_stop needs a trail")
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = Field(
        "day", description="day (expires at the close), gtc (good till canceled), ioc "
                           "(fill what you can now, cancel the rest), fok (all now or nothing)")
    limit_price: Number | None = Field(None, description="Required for limit and stop_limit"
                                       + _PRICE)
    stop_price: Number | None = Field(None, description="Required for stop and stop_limit" + _PRICE)
    trail_price: Number | None = Field(None, description="trailing_stop: absolute trail" + _PRICE)
    trail_percent: Number | None = Field(None, description="trailing_stop: trail in percent, "
                                         f"below 100; {PERCENT.describe()}")
    client_order_id: str | None = Field(
        None, max_length=MAX_CLIENT_ORDER_ID,
        description="Your idempotency key, unique per account: a retry with the same key and "
                    "parameters returns the order placed before")
    extended_hours: bool = Field(False, description="Allow the order outside regular hours")
    account_id: str | None = Field(None, description="Operators only; keys act on their account")


def order_payload(values: Mapping[str, Any]) -> dict[str, Any]:
    """The service payload of order fields: unset (None) fields left out, decimals parsed by
    the domain (InvalidOrderError names a bad one and its bound) and written canonically, so
    "1" and 1 are the same order (one confirmation token, one idempotency digest)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        bounds = ORDER_NUMBERS.get(name)
        out[name] = value if bounds is None else to_text(parse_decimal(name, value, bounds))
    return out


def order_parameters() -> list[inspect.Parameter]:
    """OrderFields as keyword-only parameters (type, bounds and description on each), for a
    tool function whose signature MCP turns into flat, described top-level arguments."""
    params: list[inspect.Parameter] = []
    for name, info in OrderFields.model_fields.items():
        # a runtime annotation for the SDK's signature reading, not a static type
        annotation: Any = Annotated[info.rebuild_annotation(), Field(description=info.description)]
        default = inspect.Parameter.empty if info.is_required() else info.default
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
    return params
