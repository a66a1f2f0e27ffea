"""Orders: Alpaca's vocabulary, a lookup-table state machine, and request validation."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple, TypeVar

from mcp_trading.domain.errors import IllegalTransitionError, InvalidOrderError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.numbers import (
    PERCENT,
    PRICE,
    QUANTITY,
    Bounds,
    is_multiple,
    parse_decimal,
    to_text,
)

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "ORDER_NUMBERS",
    "TERMINAL",
    "TRANSITIONS",
    "WORKING",
    "Order",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "Trigger",
    "next_status",
    "parse_number",
]

_E = TypeVar("_E", bound=StrEnum)
_ZERO = Decimal(0)
MAX_CLIENT_ORDER_ID = 48
_MAX_PRICE = PRICE.maximum
_MIN_PRICE = Decimal(1).scaleb(-PRICE.places)
#: the numeric fields of an order request and the bounds each is parsed with
ORDER_NUMBERS: dict[str, Bounds] = {"qty": QUANTITY, "limit_price": PRICE, "stop_price": PRICE,
                                    "trail_price": PRICE, "trail_percent": PERCENT}


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"  # taken by the kernel, risk passed, not yet at the venue
    NEW = "new"  # working at the paper venue
    PARTIALLY_FILLED = "partially_filled"  # some quantity filled, rest working
    FILLED = "filled"  # terminal: all quantity filled
    DONE_FOR_DAY = "done_for_day"  # no more fills today; may work again next session
    CANCELED = "canceled"  # terminal: canceled by the user, the kernel or IOC/FOK rules
    EXPIRED = "expired"  # terminal: time in force ran out (day order at session close)
    REPLACED = "replaced"  # terminal: superseded by the order named in replaced_by
    PENDING_CANCEL = "pending_cancel"  # cancel requested, venue not yet confirmed
    PENDING_REPLACE = "pending_replace"  # replace requested, venue not yet confirmed
    REJECTED = "rejected"  # terminal: refused before working (risk, state, session)


class Trigger(StrEnum):
    ACCEPT = "accept"
    ROUTE = "route"
    REJECT = "reject"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    REQUEST_CANCEL = "request_cancel"
    CANCEL = "cancel"
    REQUEST_REPLACE = "request_replace"
    REPLACE = "replace"
    EXPIRE = "expire"
    DONE_FOR_DAY = "done_for_day"
    REACTIVATE = "reactivate"


S, T = OrderStatus, Trigger
_LIVE = (S.ACCEPTED, S.NEW, S.PARTIALLY_FILLED)

#: (status, trigger) -> status. Anything absent is illegal. `None` is "not yet an order".
TRANSITIONS: dict[tuple[OrderStatus | None, Trigger], OrderStatus] = {
    (None, T.ACCEPT): S.ACCEPTED,
    (None, T.REJECT): S.REJECTED,
    (S.ACCEPTED, T.ROUTE): S.NEW,
    (S.ACCEPTED, T.REJECT): S.REJECTED,
    **{(s, T.PARTIAL_FILL): S.PARTIALLY_FILLED for s in _LIVE},
    **{(s, T.FILL): S.FILLED for s in _LIVE},
    **{(s, T.REQUEST_CANCEL): S.PENDING_CANCEL for s in _LIVE},
    **{(s, T.CANCEL): S.CANCELED for s in _LIVE},
    **{(s, T.REQUEST_REPLACE): S.PENDING_REPLACE for s in _LIVE},
    **{(s, T.REPLACE): S.REPLACED for s in _LIVE},
    **{(s, T.EXPIRE): S.EXPIRED for s in _LIVE},
    **{(s, T.DONE_FOR_DAY): S.DONE_FOR_DAY for s in (S.NEW, S.PARTIALLY_FILLED)},
    (S.DONE_FOR_DAY, T.REACTIVATE): S.NEW,
    (S.DONE_FOR_DAY, T.EXPIRE): S.EXPIRED,
    (S.DONE_FOR_DAY, T.CANCEL): S.CANCELED,
    # a fill may race a pending cancel or replace and win
    (S.PENDING_CANCEL, T.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FILL): S.FILLED,
    (S.PENDING_CANCEL, T.CANCEL): S.CANCELED,
    (S.PENDING_REPLACE, T.PARTIAL_FILL): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, T.FILL): S.FILLED,
    (S.PENDING_REPLACE, T.REPLACE): S.REPLACED,
    (S.PENDING_REPLACE, T.CANCEL): S.CANCELED,
}
del S, T

_TABLE_GET = TRANSITIONS.get

TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REPLACED,
     OrderStatus.REJECTED}
)
WORKING = frozenset(
    {OrderStatus.ACCEPTED, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
     OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE, OrderStatus.DONE_FOR_DAY}
)


def next_status(order_id: str, status: OrderStatus | None, trigger: Trigger) -> OrderStatus:
    """Look the transition up; an absent entry raises IllegalTransitionError."""
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise IllegalTransitionError(order_id, str(status), trigger.value) from None


def parse_number(field: str, value: object, bounds: Bounds, *, allow_none: bool = False
                 ) -> Decimal | None:
    """An order's number from loose input (string or number) within `bounds`; None stays
    None where `allow_none`. InvalidOrderError names the field and the bound."""
    if value is None:
        if allow_none:
            return None
        raise InvalidOrderError(field, "is required")
    return parse_decimal(field, value, bounds)


def _enum(field: str, enum: type[_E], value: object) -> _E:
    try:
        return enum(value)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidOrderError(field, f"{value!r} is not allowed; use one of: {allowed}") from None


class OrderRequest(NamedTuple):
    """A validated order as a client asked for it (Alpaca field names). Immutable."""

    symbol: str
    qty: Decimal
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    client_order_id: str | None = None
    extended_hours: bool = False

    @classmethod
    def parse(cls, **raw: object) -> OrderRequest:
        """Build a request from loose input (strings or numbers), naming any bad field."""
        unknown = sorted(set(raw) - _REQUEST_FIELDS)
        if unknown:
            raise InvalidOrderError(unknown[0], "is not an order field; allowed fields: "
                                                + ", ".join(sorted(_REQUEST_FIELDS)))
        symbol = raw.get("symbol")
        if not isinstance(symbol, str) or not symbol.strip():
            raise InvalidOrderError("symbol", "is required and must be a non-empty string")
        coid = raw.get("client_order_id")
        if coid is not None and not isinstance(coid, str):
            raise InvalidOrderError("client_order_id", "must be a string")
        extended = raw.get("extended_hours", False)
        if not isinstance(extended, bool):
            raise InvalidOrderError("extended_hours", "must be true or false")
        req = cls(
            symbol=symbol.strip().upper(),
            qty=parse_number("qty", raw.get("qty"), QUANTITY),  # type: ignore[arg-type]
            side=_enum("side", OrderSide, raw.get("side")),
            type=_enum("type", OrderType, raw.get("type", "market")),
            time_in_force=_enum("time_in_force", TimeInForce, raw.get("time_in_force", "day")),
            limit_price=parse_number("limit_price", raw.get("limit_price"), PRICE, allow_none=True),
            stop_price=parse_number("stop_price", raw.get("stop_price"), PRICE, allow_none=True),
            trail_price=parse_number("trail_price", raw.get("trail_price"), PRICE, allow_none=True),
            trail_percent=parse_number("trail_percent", raw.get("trail_percent"), PERCENT,
                                   allow_none=True),
            client_order_id=coid or None,
            extended_hours=extended,
        )
        req.check_shape()
        return req

    def check_shape(self) -> None:
        """Rules that need no instrument: signs, required prices per type, id length."""
        if self.qty <= _ZERO:
            raise InvalidOrderError("qty", f"must be > 0, got {self.qty}")
        if self.client_order_id is not None and len(self.client_order_id) > MAX_CLIENT_ORDER_ID:
            raise InvalidOrderError(
                "client_order_id",
                f"is {len(self.client_order_id)} characters; at most {MAX_CLIENT_ORDER_ID} allowed",
            )
        kind = self.type
        needs_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
        for name, value, needed in (
            ("limit_price", self.limit_price, needs_limit),
            ("stop_price", self.stop_price, needs_stop),
        ):
            if needed and value is None:
                raise InvalidOrderError(name, f"is required for {kind.value} orders")
            if not needed and value is not None:
                raise InvalidOrderError(name, f"must be omitted for {kind.value} orders")
            if value is not None and value <= _ZERO:
                raise InvalidOrderError(name, f"must be > 0, got {value}")
        if kind is OrderType.TRAILING_STOP:
            if (self.trail_price is None) == (self.trail_percent is None):
                raise InvalidOrderError(
                    "trail_price", "trailing_stop orders need exactly one of trail_price or trail_percent"
                )
            if self.trail_price is not None and self.trail_price <= _ZERO:
                raise InvalidOrderError("trail_price", f"must be > 0, got {self.trail_price}")
            if self.trail_percent is not None and not _ZERO < self.trail_percent < 100:
                raise InvalidOrderError(
                    "trail_percent", f"must be between 0 and 100, got {self.trail_percent}")
        elif self.trail_price is not None or self.trail_percent is not None:
            raise InvalidOrderError(
                "trail_price", f"trail_price/trail_percent must be omitted for {kind.value} orders")
        if kind is OrderType.TRAILING_STOP and self.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            raise InvalidOrderError("time_in_force", "trailing_stop orders take day or gtc")

    def check_instrument(self, instrument: Instrument) -> None:
        """Rules that need the instrument: lot size, quantity bounds, tick size.

        Also the price bound, so a request built without `parse` (by a caller that skipped
        it) cannot carry a price into the risk arithmetic that would overflow there.
        """
        qty = self.qty
        lot = instrument.lot_size
        if not (qty.is_finite() and is_multiple(qty, lot)):
            raise InvalidOrderError(
                "qty", f"{to_text(qty)} is not a multiple of the lot size {lot} for {self.symbol}")
        if qty < instrument.min_qty:
            raise InvalidOrderError(
                "qty", f"{to_text(qty)} is below the minimum {instrument.min_qty} for {self.symbol}")
        if qty > instrument.max_qty:
            raise InvalidOrderError(
                "qty", f"{to_text(qty)} is above the maximum {instrument.max_qty} for {self.symbol}")
        tick = instrument.tick_size
        _, _, _, _, _, limit_price, stop_price, trail_price, _, _, _ = self
        if limit_price is not None:
            self._check_price("limit_price", limit_price, tick)
        if stop_price is not None:
            self._check_price("stop_price", stop_price, tick)
        if trail_price is not None:
            self._check_price("trail_price", trail_price, tick)

    def _check_price(self, name: str, price: Decimal, tick: Decimal) -> None:
        if not (price.is_finite() and _MIN_PRICE <= price <= _MAX_PRICE):
            raise InvalidOrderError(name, f"{to_text(price)} is out of range; {PRICE.what} must "
                                          f"be {PRICE.describe()}")
        if tick and not is_multiple(price, tick):
            raise InvalidOrderError(
                name, f"{to_text(price)} is off the tick size {tick} for {self.symbol}")

    def same_parameters(self, other: OrderRequest) -> bool:
        return tuple.__eq__(self, other)


_REQUEST_FIELDS = frozenset(OrderRequest._fields)


class Order:
    """A live order as the kernel keeps it. Mutated only by applying events.

    Rarely-set attributes are class-level defaults, so creating an order (on the hot path)
    writes only what every order has.
    """

    status: OrderStatus | None = None
    filled_qty: Decimal = _ZERO
    filled_avg_price: Decimal | None = None
    filled_at: int | None = None
    canceled_at: int | None = None
    expired_at: int | None = None
    replaced_at: int | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    reject_code: str | None = None
    reject_reason: str | None = None
    triggered: bool = False
    watermark: Decimal | None = None
    ref_price: Decimal | None = None
    reserved: Decimal = _ZERO
    attribution: str | None = None

    def __init__(self, order_id: str, account_id: str, request: OrderRequest, *, ts: int) -> None:
        self.id = order_id
        self.account_id = account_id
        self.request = request
        (self.symbol, self.qty, self.side, self.type, self.time_in_force, self.limit_price,
         self.stop_price, self.trail_price, self.trail_percent, coid,
         self.extended_hours) = request
        self.client_order_id = coid or order_id
        self.created_at = self.updated_at = self.active_at = ts

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_buy(self) -> bool:
        return self.side is OrderSide.BUY

    def transition(self, trigger: Trigger) -> None:
        status = _TABLE_GET((self.status, trigger))
        if status is None:
            raise IllegalTransitionError(self.id, str(self.status), trigger.value)
        self.status = status

    def signed_leaves(self) -> Decimal:
        leaves = self.qty - self.filled_qty
        return leaves if self.side is OrderSide.BUY else -leaves

    def __repr__(self) -> str:
        return (f"Order({self.id}, {self.side} {self.qty} {self.symbol} {self.type} "
                f"{self.status}, filled={self.filled_qty})")
