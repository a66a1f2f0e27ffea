"""The one mapping from an error's kind to its HTTP answer: status and body.

Services raise kinds (domain/errors.py draws the tree) and never HTTP statuses. The REST
exception handlers (rest/app.py), the fast path (rest/fastpath.py), the batch results
(rest/trading_engine.py) and the websocket error frames (rest/market_data.py) answer through
this module; MCP error results (mcp/results.py) quote the same status. The body of a refusal
is `TradingError.body()`, `{code, message, field?, ...extra}`. An error of no kind is a fault:
`http_error` gives None and the REST face answers `INTERNAL_BODY` with a 500, logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_trading.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    MalformedError,
    NotFoundError,
    RefusedError,
    TradingError,
    UnauthenticatedError,
    UnavailableError,
    kind_of,
)

__all__ = ["HTTP_STATUS", "INTERNAL_BODY", "http_error", "http_status"]

#: kind -> HTTP status (a test holds it to domain.errors.KINDS and to the drawn tree)
HTTP_STATUS: Mapping[type[TradingError], int] = MappingProxyType({
    InvalidError: 422,
    MalformedError: 400,
    UnauthenticatedError: 401,
    ForbiddenError: 403,
    RefusedError: 403,  # risk or the trading state said no: forbidden now, not malformed
    NotFoundError: 404,
    ConflictError: 409,
    UnavailableError: 503,
})

INTERNAL_BODY: Mapping[str, str] = MappingProxyType(
    {"code": "INTERNAL", "message": "internal error; it has been logged"})


def http_status(exc: BaseException) -> int | None:
    """The status a refusal is answered with; None for a fault or a foreign exception."""
    kind = kind_of(exc)
    return None if kind is None else HTTP_STATUS[kind]


def http_error(exc: BaseException) -> tuple[int, dict[str, Any]] | None:
    """(status, body) of a refusal; None for anything unexpected (answered 500, logged)."""
    status = http_status(exc)
    if status is None:
        return None
    assert isinstance(exc, TradingError)  # every kind is one
    return status, exc.body()
