"""API errors: every refusal becomes a 4xx with a stable code and a message that says what to do.

    ApiError (status, code, message, field?)       raised by service functions
    domain errors                                 mapped by `to_api_error`
"""

from __future__ import annotations

from typing import Any

from mcp_trading.domain.errors import (
    DomainError,
    DuplicateClientOrderIdError,
    InvalidOrderError,
    OrderNotFoundError,
    OrderStateError,
    UnknownAccountError,
    UnknownSymbolError,
)
from mcp_trading.domain.risk import InvalidLimitError
from mcp_trading.kernel.kernel import OrderRefusedError
from mcp_trading.platform.platform import PlatformUnavailableError

__all__ = ["ApiError", "to_api_error"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return body


def to_api_error(exc: Exception) -> ApiError | None:
    """The HTTP form of a domain or platform error; None for anything unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InvalidOrderError):
        return ApiError(422, exc.code, exc.message, field=exc.field)
    if isinstance(exc, InvalidLimitError):
        return ApiError(422, exc.code, exc.message, field=exc.field)
    if isinstance(exc, UnknownSymbolError):
        return ApiError(422, exc.code, exc.message, field="symbol")
    if isinstance(exc, (OrderNotFoundError, UnknownAccountError)):
        return ApiError(404, exc.code, exc.message)
    if isinstance(exc, DuplicateClientOrderIdError):
        return ApiError(409, exc.code, exc.message, field="client_order_id")
    if isinstance(exc, OrderRefusedError):
        return ApiError(403, exc.code, exc.message)
    if isinstance(exc, OrderStateError):
        return ApiError(422, exc.code, exc.message)
    if isinstance(exc, DomainError):
        return ApiError(422, exc.code, exc.message)
    if isinstance(exc, PlatformUnavailableError):
        return ApiError(503, "UNAVAILABLE", str(exc))
    return None
