"""The platform's exceptions, drawn once. Every exception class in mcp_trading derives from
the root; what a caller does about one is decided by its kind.

    TradingError                   root: `code` (stable, machine-readable), `message` (what was
    │                              wrong and what to do), optional `field`, `extra` members
    ├── InvalidError          422  the input is malformed or out of bounds
    │   ├── MalformedError    400  the message cannot be read at all (not JSON, too deep)
    │   ├── InvalidOrderError      a field of an order request: the field, what was wrong, what is allowed
    │   ├── UnknownSymbolError     no such instrument (field: symbol)
    │   ├── InvalidLimitError      a risk limit (domain/risk.py)
    │   └── OrderStateError        the order's state does not allow the action
    │       └── IllegalTransitionError  the state machine has no (status, trigger) entry: a bug
    ├── UnauthenticatedError  401  no valid credential
    ├── ForbiddenError        403  the credential's role or account does not allow it
    ├── RefusedError          403  pre-trade risk or the trading state refused the action
    │   ├── OrderRefusedError      a kernel command refused, nothing changed (kernel/commands.py)
    │   └── OrderRejectedError     an order journaled as rejected, with its view (services/trading.py)
    ├── NotFoundError         404  no such thing (or not visible to the caller's account)
    │   ├── UnknownAccountError
    │   ├── OrderNotFoundError
    │   └── UnknownKeyError        an API key id never issued (platform/security.py)
    ├── ConflictError         409  the request contradicts the current state
    │   └── DuplicateClientOrderIdError  same client_order_id, different parameters
    └── UnavailableError      503  not now: stopping, the journal or the feed is away
        └── PlatformUnavailableError    (platform/platform.py)

The statuses are the REST face's answer; the one mapping is `platform/errors.py` (MCP error
results quote the same status), and a test holds this drawing to it. A class that derives from
the root but from no kind is a fault, not a refusal (the journal, the bus, the store, the
supervisor, a bad settings or instrument file, the kernel's closed-order retry signal): the
REST face answers it 500 INTERNAL and logs it, an MCP tool lets it propagate. A fault class
may also derive from the built-in it always was (RuntimeError, ValueError, LookupError), so
`except ValueError` callers keep working.

A risk refusal of a new order is not raised by the kernel: it is a rejected order carrying a
`Refusal`; the faces turn it into an `OrderRejectedError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "KINDS",
    "ConflictError",
    "DomainError",
    "DuplicateClientOrderIdError",
    "ForbiddenError",
    "IllegalTransitionError",
    "InvalidError",
    "InvalidOrderError",
    "MalformedError",
    "NotFoundError",
    "OrderNotFoundError",
    "OrderStateError",
    "RefusedError",
    "TradingError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnknownAccountError",
    "UnknownSymbolError",
    "kind_of",
]


class TradingError(Exception):
    """The root. `code` is stable and machine-readable (the class's unless given), `message`
    is for humans and says what to do, `field` names the input at fault, `extra` holds more
    members of the error body (e.g. the allowed values)."""

    code = "INTERNAL"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.extra: dict[str, Any] = dict(extra) if extra else {}

    def body(self) -> dict[str, Any]:
        """`{code, message, field?, ...extra}`: the error as the faces send it."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.extra:
            body.update(self.extra)
        return body


#: the name of the root before the tree had kinds; kept so callers keep working
DomainError = TradingError


# ---- the kinds -----------------------------------------------------------------------------
class InvalidError(TradingError):
    """The input is malformed or out of bounds: fix the request and send it again."""

    code = "INVALID"


class MalformedError(InvalidError):
    """The message could not be read at all (not JSON, nested too deep)."""

    code = "MALFORMED"


class UnauthenticatedError(TradingError):
    """No valid credential came with the request."""

    code = "UNAUTHENTICATED"


class ForbiddenError(TradingError):
    """The credential is valid but its role or account does not allow this."""

    code = "FORBIDDEN"


class RefusedError(TradingError):
    """Pre-trade risk or the trading state refused the action; nothing was changed."""

    code = "REFUSED"


class NotFoundError(TradingError):
    """No such thing, or not one the caller's account may see."""

    code = "NOT_FOUND"


class ConflictError(TradingError):
    """The request contradicts the current state (a taken id, a failing health check)."""

    code = "CONFLICT"


class UnavailableError(TradingError):
    """The platform cannot do it now (stopping, journal or feed away); try again later."""

    code = "UNAVAILABLE"


#: every kind, most specific first where one derives from another
KINDS: tuple[type[TradingError], ...] = (
    MalformedError, InvalidError, UnauthenticatedError, ForbiddenError, RefusedError,
    NotFoundError, ConflictError, UnavailableError,
)
_KIND_SET = frozenset(KINDS)
_kind_by_type: dict[type[BaseException], type[TradingError] | None] = {}


def kind_of(exc: BaseException) -> type[TradingError] | None:
    """The kind of a refusal (its most specific kind); None for a fault or a foreign error."""
    klass = type(exc)
    try:
        return _kind_by_type[klass]
    except KeyError:
        pass
    kind: type[TradingError] | None = None
    for base in klass.__mro__:
        if base in _KIND_SET:
            kind = base
            break
    _kind_by_type[klass] = kind
    return kind


# ---- the domain's own ----------------------------------------------------------------------
class InvalidOrderError(InvalidError):
    code = "INVALID_ORDER"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class UnknownSymbolError(InvalidError):
    code = "UNKNOWN_SYMBOL"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"symbol {symbol!r} is not a known instrument; list instruments for "
                         "valid symbols", field="symbol")
        self.symbol = symbol


class UnknownAccountError(NotFoundError):
    code = "UNKNOWN_ACCOUNT"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id!r} does not exist")
        self.account_id = account_id


class OrderNotFoundError(NotFoundError):
    code = "ORDER_NOT_FOUND"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} not found")
        self.order_id = order_id


class OrderStateError(InvalidError):
    """The order's state does not allow the action (a 422, as it always was)."""

    code = "ORDER_STATE"


class IllegalTransitionError(OrderStateError):
    code = "ILLEGAL_TRANSITION"

    def __init__(self, order_id: str, status: str, trigger: str) -> None:
        super().__init__(f"order {order_id}: {trigger} is not allowed when the order is {status}")
        self.order_id = order_id
        self.status = status
        self.trigger = trigger


class DuplicateClientOrderIdError(ConflictError):
    code = "DUPLICATE_CLIENT_ORDER_ID"

    def __init__(self, client_order_id: str, existing_order_id: str) -> None:
        super().__init__(
            f"client_order_id {client_order_id!r} is already used by order {existing_order_id} "
            "with different parameters; client_order_id must be unique per account",
            field="client_order_id")
        self.client_order_id = client_order_id
        self.existing_order_id = existing_order_id
