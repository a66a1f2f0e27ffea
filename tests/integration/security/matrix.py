"""The walks of the authorization matrix: every REST route, WebSocket and MCP tool of an app,
called with each credential, each outcome compared with the policy table (policy.py).

A call's outcome is one of three: refused as unauthenticated (401, or the WebSocket's /
tool's UNAUTHENTICATED), refused as forbidden (403 / FORBIDDEN), or let through (anything
else: a 2xx, or a refusal that comes after the credential was accepted, such as a 422 for
the deliberately unusable body every state-changing request carries, so a walk changes
nothing it depends on). A let-through call must also not be a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from mcp import Client
from mcp_types import Tool
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mcp_trading.security.principal import Role

from .policy import UndeclaredError, least_role

__all__ = ["Credential", "Walk", "flat_routes", "tool_arguments"]

#: path parameters filled with values that exist (the keys' account) or plainly do not
PATH_VALUES = {"symbol": "AAPL", "account_id": "paper", "date": "2026-01-02"}
#: every POST/PUT/PATCH/DELETE sends this: a JSON object (what every body-reading route
#: decodes before it looks further) naming nothing, so a route that reads fields refuses it
#: once the caller is known; a route whose least role is met may act on it (a halt, say),
#: which changes no later call's credential check
EMPTY_BODY = b"{}"
_NUMBER = "999999"  # an integer path or query parameter: well-formed, names nothing
#: tool arguments by name; other required arguments get a placeholder of their type
TOOL_VALUES: dict[str, Any] = {
    "symbol": "AAPL", "symbols": ["AAPL"], "qty": "1", "side": "buy", "type": "limit",
    "limit_price": "1.00", "account_id": "paper", "reason": "authorization matrix",
    "start": "2010-01-04", "end": "2010-01-05", "methods": ["equal_weight"],
    "backtest_ids": ["matrix-none"], "strategy": "matrix-none",
}
_PLACEHOLDER = {"string": "matrix-none", "integer": 1, "number": 1, "boolean": False,
                "array": [], "object": {}}
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True)
class Credential:
    """A credential the walk presents: its name, its headers, and the role it carries
    (None: it must be refused as unauthenticated, whatever it is)."""

    name: str
    headers: Mapping[str, str]
    role: Role | None


def flat_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of every route, included routers flattened (FastAPI keeps them as
    one `_IncludedRouter` each, holding the router it included)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield prefix + getattr(route, "path", ""), route


def _typed(param: Any) -> str:
    annotation = getattr(getattr(param, "field_info", None), "annotation", None)
    return _NUMBER if annotation in (int, float) else "matrix-none"


def _request_target(path: str, route: BaseRoute) -> tuple[str, dict[str, str]]:
    """The path with its parameters filled, and the route's required query parameters: what
    FastAPI checks before a route runs must pass, so the route's own checks decide."""
    dependant = getattr(route, "dependant", None)
    params = {p.name: p for p in getattr(dependant, "path_params", [])}
    filled = _PARAM.sub(lambda m: PATH_VALUES.get(m.group(1)) or _typed(params.get(m.group(1))),
                        path)
    query = {p.name: _typed(p) for p in getattr(dependant, "query_params", [])
             if p.field_info.is_required()}
    return filled, query


def tool_arguments(tool: Tool) -> dict[str, Any]:
    """Arguments that satisfy the tool's input schema, so a call reaches the tool's own
    credential check; what they name does not exist (or is the keys' account)."""
    schema = tool.input_schema
    arguments: dict[str, Any] = {}
    for name in schema.get("required", []):
        if name in TOOL_VALUES:
            arguments[name] = TOOL_VALUES[name]
            continue
        spec = schema.get("properties", {}).get(name, {})
        if spec.get("enum"):
            arguments[name] = spec["enum"][0]
            continue
        kinds = [spec.get("type")] + [s.get("type") for s in spec.get("anyOf", [])]
        kind = next((k for k in kinds if isinstance(k, str) and k != "null"), "string")
        arguments[name] = _PLACEHOLDER.get(kind, "matrix-none")
    return arguments


def _judge(where: str, required: Role | None, credential: Credential, refused: str | None,
           server_error: bool) -> str | None:
    """A problem, or None when the outcome is what the policy says."""
    if required is None:  # public
        expected = None
    elif credential.role is None:
        expected = "unauthenticated"
    elif credential.role < required:
        expected = "forbidden"
    else:
        expected = None
    if refused == expected and not (expected is None and server_error):
        return None
    got = refused or ("a server error" if server_error else "let through")
    want = expected or "let through"
    kind = "UNEXPECTED SUCCESS" if expected is not None and refused is None else "mismatch"
    return f"{kind}: {where} as {credential.name}: {got}, policy says {want}"


class Walk:
    """One walk over a platform's apps, collecting every call and every problem."""

    def __init__(self, credentials: list[Credential]) -> None:
        self.credentials = credentials
        self.problems: list[str] = []
        self.calls = 0
        self.covered: set[str] = set()  # "service METHOD path" / "service tool name"

    def _required(self, service: str, what: str) -> tuple[bool, Role | None]:
        try:
            return True, least_role(service, what)
        except UndeclaredError:
            self.problems.append(f"UNDECLARED: {service} {what} is in no row of policy.py")
            return False, None

    # --- REST -----------------------------------------------------------------------------

    def rest(self, service: str, app: FastAPI, client: TestClient) -> None:
        """Every HTTP route and WebSocket of `app`, through `client` (the served app)."""
        for path, route in flat_routes(app.router.routes):
            if path == "/mcp":
                continue  # the MCP walk's
            if isinstance(route, WebSocketRoute):
                self._websocket(service, path, client)
                continue
            methods = sorted(getattr(route, "methods", None) or {"GET"})
            for method in (m for m in methods if m != "HEAD"):
                self._route(service, method, path, route, client)

    def _route(self, service: str, method: str, path: str, route: BaseRoute,
               client: TestClient) -> None:
        declared, required = self._required(service, f"{method} {path}")
        if not declared:
            return
        self.covered.add(f"{service} {method} {path}")
        body = None if method == "GET" else EMPTY_BODY
        target, query = _request_target(path, route)
        for credential in self.credentials:
            headers = dict(credential.headers)
            if body is not None:
                headers["Content-Type"] = "application/json"
            response = client.request(method, target, params=query, content=body,
                                      headers=headers)
            self.calls += 1
            refused = {401: "unauthenticated", 403: "forbidden"}.get(response.status_code)
            if refused == "forbidden" and _code(response) != "FORBIDDEN":
                refused = f"403 {_code(response)}"  # a refusal of another kind (e.g. CSRF)
            problem = _judge(f"{service} {method} {path}", required, credential, refused,
                             response.status_code >= 500)
            if problem:
                self.problems.append(f"{problem} [{response.status_code} {response.text[:160]}]")

    def _websocket(self, service: str, path: str, client: TestClient) -> None:
        declared, required = self._required(service, f"ws {path}")
        if not declared:
            return
        self.covered.add(f"{service} ws {path}")
        for credential in self.credentials:
            self.calls += 1
            refused: str | None = None
            try:
                with client.websocket_connect(f"ws://127.0.0.1{path}",
                                              headers=dict(credential.headers)) as ws:
                    ws.send_text(json.dumps({"action": "ping"}))
                    first = ws.receive_json()
                    if first.get("type") == "error":
                        refused = {"UNAUTHENTICATED": "unauthenticated",
                                   "FORBIDDEN": "forbidden"}.get(first.get("code"), "error")
            except WebSocketDisconnect as exc:
                refused = f"closed {exc.code}"
            problem = _judge(f"{service} ws {path}", required, credential, refused, False)
            if problem:
                self.problems.append(problem)

    # --- MCP ------------------------------------------------------------------------------

    def mcp_refused_at_the_door(self, service: str, client: TestClient) -> None:
        """A credential that is no credential never reaches a tool: 401 on /mcp itself."""
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        for credential in (c for c in self.credentials if c.role is None):
            response = client.post("/mcp", json=request, headers={
                **credential.headers, "Accept": "application/json, text/event-stream"})
            self.calls += 1
            if response.status_code != 401:
                self.problems.append(f"UNEXPECTED SUCCESS: {service} /mcp as {credential.name}: "
                                     f"{response.status_code}, policy says unauthenticated")

    async def mcp_tools(self, service: str, mcp: Client, credential: Credential,
                        every_tool: dict[str, Tool]) -> None:
        """tools/list shows `credential` exactly the tools its role may call, and each tool of
        the service refuses it or lets it through as the policy says."""
        assert credential.role is not None
        listed = {t.name for t in (await mcp.list_tools()).tools}
        for name, tool in every_tool.items():
            declared, required = self._required(service, f"tool {name}")
            if not declared:
                continue
            self.covered.add(f"{service} tool {name}")
            allowed = required is None or credential.role >= required
            if (name in listed) != allowed:
                self.problems.append(f"mismatch: {service} tools/list as {credential.name} "
                                     f"{'shows' if name in listed else 'hides'} {name}, policy "
                                     f"says {'allowed' if allowed else 'forbidden'}")
            result = await mcp.call_tool(name, tool_arguments(tool))
            self.calls += 1
            data = result.structured_content or {}
            code = data.get("code") if result.is_error else None
            refused = {"UNAUTHENTICATED": "unauthenticated", "FORBIDDEN": "forbidden"}.get(
                code or "")
            server_error = bool(result.is_error and not code)  # a fault, not a refusal
            problem = _judge(f"{service} tool {name}", required, credential, refused,
                             server_error)
            if problem:
                text = " ".join(c.text for c in result.content if hasattr(c, "text"))
                self.problems.append(f"{problem} [{text[:160]}]")


def _code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
