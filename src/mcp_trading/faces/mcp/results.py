"""Tool results: structured data, or an error result (is_error) carrying the code and figures.

A refusal or a bad argument is something the agent should read and act on, so it comes back
as a tool result marked as an error, never as a protocol error. Unexpected exceptions are
left to the SDK (logged, reported as a generic tool error).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mcp_types import CallToolResult, TextContent

from mcp_trading.platform.errors import ApiError, to_api_error

__all__ = ["error_result", "guarded", "ok", "refusal"]


def _text(data: Mapping[str, Any]) -> list[TextContent]:
    return [TextContent(type="text", text=json.dumps(data, default=str))]


def ok(data: Mapping[str, Any]) -> CallToolResult:
    return CallToolResult(content=_text(data), structured_content=dict(data))


def error_result(code: str, message: str, **details: Any) -> CallToolResult:
    body = {"code": code, "message": message, **details}
    return CallToolResult(content=_text(body), structured_content=body, is_error=True)


def _from_api(api: ApiError) -> CallToolResult:
    return error_result(api.code, api.message, status=api.status,
                        **({"field": api.field} if api.field else {}), **api.extra)


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
    """The error result of a known refusal; anything unexpected is re-raised."""
    api = to_api_error(exc)
    if api is None:
        raise exc
    return _from_api(api)
