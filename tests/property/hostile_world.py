"""The platform the hostile-number property test attacks, and how it finds its targets.

Targets are found, not listed: every numeric property of every JSON request body and every
numeric query or path parameter in each service app's OpenAPI document, and every numeric
argument in each MCP face's tools/list input schemas, nested objects and arrays followed
through `$ref`. A new numeric field is attacked without editing the test.

Requests go through the served ASGI stack (fast routes included) on one event loop (an anyio
portal), as raw JSON text: a JSON number a client library would never write (1e400, a
5,000-digit integer, a bare NaN) reaches the server as it would from curl.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
from anyio.from_thread import BlockingPortal, start_blocking_portal

from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import WORKING, OrderRequest
from mcp_trading.faces.mcp import mcp_lifespan
from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.processes.runner import build_apps
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data.service import MarketDataService
from mcp_trading.services.providers.service import ProvidersService
from mcp_trading.services.registry import names

MAX_RESPONSE = 64 * 1024  # no answer to one request, accepted or refused, may be larger
BASE = "http://127.0.0.1:8010"
_HEADERS = {"Authorization": "Bearer operator", "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream"}
_HOLE = "\x00hostile\x00"  # where the hostile JSON text goes in a baseline body
#: query parameters that are numbers in meaning even where a route types them as strings
_NUMERIC_NAMES = frozenset({"limit", "offset", "cursor"})
#: a valid order to carry the hostile value, by the field attacked (the field needs its type)
_ORDERS: dict[str, dict[str, Any]] = {
    "default": {"symbol": "AAPL", "side": "buy", "qty": 1, "type": "limit",
                "limit_price": "90.00", "time_in_force": "gtc"},
    "stop_price": {"symbol": "AAPL", "side": "buy", "qty": 1, "type": "stop_limit",
                   "stop_price": "110.00", "limit_price": "111.00", "time_in_force": "gtc"},
    "trail_price": {"symbol": "AAPL", "side": "buy", "qty": 1, "type": "trailing_stop",
                    "trail_price": "5.00", "time_in_force": "gtc"},
    "trail_percent": {"symbol": "AAPL", "side": "buy", "qty": 1, "type": "trailing_stop",
                      "trail_percent": "5", "time_in_force": "gtc"},
}
_ORDERS["trail"] = _ORDERS["trail_price"]  # PATCH's `trail` replaces a trailing stop's trail


class FakeAuthenticator:
    """`Bearer <role>`: a Principal of that role on every account (no confirmation tokens)."""

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True
                     ) -> Principal | None:
        scheme, _, role = (authorization_header or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            parsed = Role.parse(role.strip())
        except ValueError:
            return None
        return Principal(parsed, key_id=f"test-{parsed.label}", account_id=None,
                         name=parsed.label, confirm_orders=False)


@dataclass(frozen=True)
class Target:
    """One numeric input: a REST parameter or body field, or an MCP tool argument."""

    service: str
    kind: str  # "query" | "path" | "body" | "tool"
    method: str  # HTTP method, or the tool's name
    path: str  # the route, or "/mcp"
    field: tuple[str | int, ...]  # the parameter name, or the path into the JSON body/arguments
    schema: dict[str, Any]  # the body's (or the tool's input) schema, for the baseline

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.field)
        return f"{self.service} {self.method} {self.path} {self.kind}:{where}"


def _resolved(node: dict[str, Any], *roots: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    for root in roots:
        current: Any = root
        try:
            for part in ref.lstrip("#/").split("/"):
                current = current[part]
        except (KeyError, TypeError):
            continue
        return _resolved(current, *roots)
    raise KeyError(ref)


def _types(node: dict[str, Any], *roots: dict[str, Any]) -> set[str]:
    node = _resolved(node, *roots)
    found = {node["type"]} if isinstance(node.get("type"), str) else set(node.get("type", []))
    for option in node.get("anyOf", []) + node.get("oneOf", []):
        found |= _types(option, *roots)
    return found


def _numeric_paths(node: dict[str, Any], *roots: dict[str, Any], depth: int = 0
                   ) -> Iterator[tuple[str | int, ...]]:
    """Paths to every numeric leaf under `node` (property names; 0 for an array's items)."""
    node = _resolved(node, *roots)
    if depth > 8:
        return
    if _types(node, *roots) & {"number", "integer"}:
        yield ()
        return
    for name, child in node.get("properties", {}).items():
        for rest in _numeric_paths(child, *roots, depth=depth + 1):
            yield (name, *rest)
    items = node.get("items")
    if isinstance(items, dict):
        for rest in _numeric_paths(items, *roots, depth=depth + 1):
            yield (0, *rest)
    for option in node.get("anyOf", []) + node.get("oneOf", []):
        yield from _numeric_paths(option, *roots, depth=depth + 1)


def rest_targets(apps: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    for service, app in apps.items():
        doc = app.openapi()
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                for param in operation.get("parameters", []):
                    schema = param.get("schema", {})
                    if _types(schema, doc) & {"number", "integer"} or (
                            param["in"] == "query" and param["name"] in _NUMERIC_NAMES):
                        targets.append(Target(service, param["in"], method.upper(), path,
                                              (param["name"],), {}))
                body = (operation.get("requestBody", {}).get("content", {})
                        .get("application/json", {}).get("schema"))
                if body is None:
                    continue
                body = _resolved(body, doc)
                for field in dict.fromkeys(_numeric_paths(body, body, doc)):
                    targets.append(Target(service, "body", method.upper(), path, field, body))
    return targets


def _baseline(node: dict[str, Any], field: tuple[str | int, ...], leaf: str,
              root: dict[str, Any]) -> Any:
    """A valid value for `node` with _HOLE at `field` (an order where the node is one)."""
    if not field:
        return _HOLE
    node = _resolved(node, root)
    head, rest = field[0], field[1:]
    if isinstance(head, int):
        return [_baseline(node.get("items", {}), rest, leaf, root)]
    for option in node.get("anyOf", []):  # e.g. an optional object: the object's branch
        if _resolved(option, root).get("properties"):
            node = _resolved(option, root)
    properties = node.get("properties", {})
    value: dict[str, Any] = {}
    if "side" in properties and "symbol" in properties:  # an order: start from a valid one
        value = dict(_ORDERS.get(leaf, _ORDERS["default"]))
    value[str(head)] = _baseline(properties.get(head, {}), rest, leaf, root)
    return value


def body_text(target: Target, token: str) -> str:
    """The JSON body for a target: a valid baseline with `token` (raw JSON) at the field."""
    leaf = str(target.field[-1])
    baseline = _baseline(target.schema, target.field, leaf, target.schema)
    return json.dumps(baseline).replace(json.dumps(_HOLE), token)


def query_text(token: str) -> str:
    """A query parameter carries text: a JSON string's content, or the number as written."""
    if token.startswith('"'):
        try:
            decoded = json.loads(token)
        except ValueError:
            return token
        return decoded if isinstance(decoded, str) else token
    return token


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class World:
    """An opened platform with quotes, its seven served apps and their MCP faces."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.order_ids: list[str] = []  # every order created by an attack (accepted or not)
        self._working: dict[str, str] = {}
        self._rpc = 0
        self._serve()

    def _serve(self) -> None:
        self.platform = self._open()
        self.apps = build_apps(self.platform, lambda: dict.fromkeys(names(), True))
        self._stack = ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self._stack.enter_context(self.portal.wrap_async_context_manager(
            mcp_lifespan(self.apps)))
        self._clients = {name: httpx2.AsyncClient(transport=httpx2.ASGITransport(
            serving_app(app)), base_url=BASE) for name, app in self.apps.items()}

    def _open(self) -> Platform:
        platform = bootstrap(Settings(data_dir=self.data_dir), authenticator=FakeAuthenticator())
        platform.open()
        platform.accepting = True
        self.fresh_quote(platform)
        return platform

    @staticmethod
    def fresh_quote(platform: Platform) -> None:
        now = time.time_ns()
        platform.kernel_runtime.kernel.on_quote(Quote(
            "AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(10_000), Decimal(10_000),
            None, now))
        platform.last_quote_ns = now
        platform.health.feed_status = "streaming"
        platform.kernel_runtime.journal.flush()

    def close(self) -> None:
        for svc in (MarketDataService.for_platform(self.platform),
                    ProvidersService.for_platform(self.platform)):
            self.portal.call(svc.stop)
        for client in self._clients.values():
            self.portal.call(client.aclose)
        self._stack.close()
        self._shut(self.platform)

    @staticmethod
    def _shut(platform: Platform) -> None:
        platform.accepting = False
        if platform.runtime is not None:
            platform.runtime.close()
        if platform.projector is not None:
            platform.projector.stop()

    # ---- requests -------------------------------------------------------------------------
    def request(self, service: str, method: str, path: str, *, content: str | None = None,
                params: dict[str, str] | None = None) -> Reply:
        client = self._clients[service]

        async def send() -> Reply:
            response = await client.request(method, path, content=content, params=params,
                                            headers=_HEADERS)
            return Reply(response.status_code, response.content)

        return self.portal.call(send)

    def working_order(self, leaf: str) -> str:
        """A working order the field `leaf` can be replaced on (placed again once replaced)."""
        kernel = self.platform.kernel_runtime.kernel
        current = self._working.get(leaf)
        if current is None or kernel.state.orders[current].status not in WORKING:
            fields = dict(_ORDERS.get(leaf, _ORDERS["default"]))
            order = kernel.submit("paper", OrderRequest.parse(**fields))
            self.platform.kernel_runtime.journal.flush()
            current = self._working[leaf] = order.id
            self.order_ids.append(current)
        return current

    def tools(self, service: str) -> list[dict[str, Any]]:
        reply = self.request(service, "POST", "/mcp", content=json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        assert reply.status == 200, reply.body[:500]
        tools: list[dict[str, Any]] = reply.json()["result"]["tools"]
        return tools

    def call_tool(self, service: str, name: str, arguments_text: str) -> Reply:
        self._rpc += 1
        content = (f'{{"jsonrpc": "2.0", "id": {self._rpc}, "method": "tools/call", "params": '
                   f'{{"name": {json.dumps(name)}, "arguments": {arguments_text}}}}}')
        return self.request(service, "POST", "/mcp", content=content)

    def reopen(self) -> None:
        """Close everything and open the platform again from its journal (recovery)."""
        self.close()
        self._working.clear()
        self._serve()


def mcp_targets(world: World) -> list[Target]:
    targets: list[Target] = []
    seen: set[str] = set()
    for service in world.apps:
        for tool in world.tools(service):
            if tool["name"] in seen:  # the same tool on two faces (order reads) runs once
                continue
            seen.add(tool["name"])
            schema = tool["inputSchema"]
            for field in dict.fromkeys(_numeric_paths(schema, schema)):
                targets.append(Target(service, "tool", tool["name"], "/mcp", field, schema))
    return targets


def tool_arguments(world: World, target: Target, token: str) -> str:
    """The tool's required arguments, valid, with `token` at the attacked field."""
    leaf = str(target.field[-1])
    schema = target.schema
    arguments = _baseline(schema, target.field, leaf, schema)
    for name in schema.get("required", []):
        if name in arguments:
            continue
        if name == "order_id":
            arguments[name] = world.working_order(leaf)
        elif name == "symbol":
            arguments[name] = "AAPL"
        elif name == "order":
            arguments[name] = dict(_ORDERS.get(leaf, _ORDERS["default"]))
        else:
            arguments[name] = "x"
    return json.dumps(arguments).replace(json.dumps(_HOLE), token)
