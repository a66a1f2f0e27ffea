"""The domain's exceptions, drawn once.

    DomainError                  base of everything the domain raises on purpose
    ├── InvalidOrderError        a request is malformed (field, what was wrong, what is allowed)
    ├── UnknownSymbolError       no such instrument
    ├── UnknownAccountError      no such account
    ├── OrderNotFoundError       no such order (or not visible to the caller's account)
    ├── OrderStateError          the order is in a state where the action is not allowed
    │   └── IllegalTransitionError   the state machine has no (status, trigger) entry
    └── DuplicateClientOrderIdError  same client_order_id, different parameters

A risk refusal is not an exception: it is a rejected order carrying a `Refusal`.
"""

from __future__ import annotations

__all__ = [
    "DomainError",
    "DuplicateClientOrderIdError",
    "IllegalTransitionError",
    "InvalidOrderError",
    "OrderNotFoundError",
    "OrderStateError",
    "UnknownAccountError",
    "UnknownSymbolError",
]


class DomainError(Exception):
    """Base class; `code` is stable and machine-readable, `str()` is for humans."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidOrderError(DomainError):
    code = "INVALID_ORDER"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownSymbolError(DomainError):
    code = "UNKNOWN_SYMBOL"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"symbol {symbol!r} is not a known instrument; list instruments for valid symbols")
        self.symbol = symbol


class UnknownAccountError(DomainError):
    code = "UNKNOWN_ACCOUNT"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id!r} does not exist")
        self.account_id = account_id


class OrderNotFoundError(DomainError):
    code = "ORDER_NOT_FOUND"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} not found")
        self.order_id = order_id


class OrderStateError(DomainError):
    code = "ORDER_STATE"


class IllegalTransitionError(OrderStateError):
    code = "ILLEGAL_TRANSITION"

    def __init__(self, order_id: str, status: str, trigger: str) -> None:
        super().__init__(f"order {order_id}: {trigger} is not allowed when the order is {status}")
        self.order_id = order_id
        self.status = status
        self.trigger = trigger


class DuplicateClientOrderIdError(DomainError):
    code = "DUPLICATE_CLIENT_ORDER_ID"

    def __init__(self, client_order_id: str, existing_order_id: str) -> None:
        super().__init__(
            f"client_order_id {client_order_id!r} is already used by order {existing_order_id} "
            "with different parameters; client_order_id must be unique per account"
        )
        self.client_order_id = client_order_id
        self.existing_order_id = existing_order_id
