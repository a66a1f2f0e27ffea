"""Tool results: structured data, or an error result (is_error) carrying the code and figures.

A refusal or a bad argument is something the agent should read and act on, so it comes back
as a tool result marked as an error, never as a protocol error. Unexpected exceptions are
left to the SDK (logged, reported as a generic tool error).

This is the one mapping from an error's kind (domain/errors.py) to MCP: a tool's refusal is
an error result `{code, message, status, field?, ...extra}` (`status`: what REST would
answer, from platform/errors.py), a resource's is a ResourceNotFoundError (not found) or a
ResourceError; an error of no kind (a fault) propagates.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import CallToolResult, TextContent

from mcp_trading.domain.errors import NotFoundError, TradingError, kind_of
from mcp_trading.platform.errors import http_status

__all__ = ["error_result", "guarded", "ok", "refusal", "resource_error"]


def _text(data: Mapping[str, Any]) -> list[TextContent]:
    return [TextContent(type="text", text=json.dumps(data, default=str))]


def ok(data: Mapping[str, Any]) -> CallToolResult:
    return CallToolResult(content=_text(data), structured_content=dict(data))


def error_result(code: str, message: str, **details: Any) -> CallToolResult:
    body = {"code": code, "message": message, **details}
    return CallToolResult(content=_text(body), structured_content=body, is_error=True)


Outcome = Mapping[str, Any] | Awaitable[Mapping[str, Any]]


async def guarded(call: Callable[[], Outcome]) -> CallToolResult:
    """Run a service call (sync or async); known refusals become error results."""
    try:
        outcome = call()
        if inspect.isawaitable(outcome):
            data = await outcome
        else:
            data = outcome
    except Exception as exc:
        return refusal(exc)
    return ok(data)


def refusal(exc: Exception) -> CallToolResult:
    """The error result of a refusal (an error of a kind); anything else is re-raised."""
    status = http_status(exc)
    if status is None:
        raise exc
    assert isinstance(exc, TradingError)  # every kind is one
    return error_result(exc.code, exc.message, status=status,
                        **({"field": exc.field} if exc.field else {}), **exc.extra)


def resource_error(exc: Exception) -> ResourceError | None:
    """The resource error of a refusal, `code: message`; None for anything else."""
    kind = kind_of(exc)
    if kind is None:
        return None
    assert isinstance(exc, TradingError)
    message = f"{exc.code}: {exc.message}"
    return ResourceNotFoundError(message) if issubclass(kind, NotFoundError) else ResourceError(message)
