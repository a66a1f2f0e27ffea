"""`mcp-trading mcp`: every service's MCP face, on stdio, for one caller of a running platform.

Desktop agents launch a command and speak MCP on its stdin/stdout. This server opens one
streamable-HTTP session per service (at each service's configured URL, with the caller's key
as the bearer token), merges what they offer and forwards each request to the service that
owns it: tools by name, resources by URI template, prompts by name. The services do all the
checking (auth, roles, account scope, confirmation tokens); the proxy adds only routing and
honest failure:

- a service that cannot be reached when the command starts stops it with a message naming
  the service and its URL (nothing half-works silently);
- a call that fails in transit becomes a tool error result: for a tool that places, cancels
  or replaces an order the change may have happened (ACK_UNCONFIRMED, with how to check), for
  a read it is SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
    Prompt,
    ReadResourceRequestParams,
    ReadResourceResult,
    ResourceTemplate,
    Tool,
)

from mcp_trading import __version__
from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.mcp.results import error_result
from mcp_trading.faces.mcp.server import instructions

__all__ = ["ProxyConnectError", "ServiceRoutes", "open_routes", "serve_stdio"]

#: tools whose effect may have happened although the reply was lost
_CHANGES_ORDERS = frozenset({"submit_order", "cancel_order", "replace_order", "halt"})
_TIMEOUT = httpx2.Timeout(15.0, connect=3.0)


class ProxyConnectError(TradingError, RuntimeError):
    """A service could not be reached or refused the key when the proxy started."""


@dataclass
class _Upstream:
    service: str
    url: str
    client: Client


@dataclass
class ServiceRoutes:
    """What the services offer, and which service owns each name or URI template."""

    tools: list[Tool] = field(default_factory=list)
    templates: list[ResourceTemplate] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    tool_owner: dict[str, _Upstream] = field(default_factory=dict)
    prompt_owner: dict[str, _Upstream] = field(default_factory=dict)
    template_owner: list[tuple[re.Pattern[str], _Upstream]] = field(default_factory=list)

    def add(self, upstream: _Upstream, tools: Sequence[Tool],
            templates: Sequence[ResourceTemplate], prompts: Sequence[Prompt]) -> None:
        """Merge one service's offer; a name another service already offers is kept first."""
        for tool in tools:
            if tool.name not in self.tool_owner:
                self.tool_owner[tool.name] = upstream
                self.tools.append(tool)
        for prompt in prompts:
            if prompt.name not in self.prompt_owner:
                self.prompt_owner[prompt.name] = upstream
                self.prompts.append(prompt)
        known = {t.uri_template for t in self.templates}
        for template in templates:
            if template.uri_template not in known:
                known.add(template.uri_template)
                self.templates.append(template)
                self.template_owner.append((_template_pattern(template.uri_template), upstream))

    def resource_owner(self, uri: str) -> _Upstream | None:
        return next((up for pattern, up in self.template_owner if pattern.fullmatch(uri)), None)


def _template_pattern(template: str) -> re.Pattern[str]:
    """trading://accounts/{account_id}/summary -> a regex where each {name} is one segment."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _describe(exc: BaseException) -> str:
    """A short, secret-free description of a transport failure."""
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    if isinstance(exc, httpx2.HTTPStatusError):
        if exc.response.status_code == 401:
            return "the key was refused (401): it is unknown, revoked or malformed"
        return f"HTTP {exc.response.status_code}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.asynccontextmanager
async def open_routes(urls: Mapping[str, str], key: str,
                      verify: ssl.SSLContext | bool = True) -> AsyncIterator[ServiceRoutes]:
    """Connect to each service's /mcp (`urls`: service -> base URL) and list what it offers;
    an https URL's certificate is checked with `verify` (security/tls.py client_verify).

    Raises ProxyConnectError naming the first service that cannot be reached or refuses the
    key. The sessions stay open until the context exits.
    """
    routes = ServiceRoutes()
    async with contextlib.AsyncExitStack() as stack:
        for service, base in urls.items():
            endpoint = f"{base.rstrip('/')}/mcp"
            try:
                http = await stack.enter_async_context(httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {key}"}, timeout=_TIMEOUT,
                    verify=verify))
                client = await stack.enter_async_context(
                    Client(streamable_http_client(endpoint, http_client=http)))
                upstream = _Upstream(service, endpoint, client)
                tools = (await client.list_tools()).tools
                templates = (await client.list_resource_templates()).resource_templates
                prompts = (await client.list_prompts()).prompts
            except Exception as exc:
                raise ProxyConnectError(
                    f"the {service} service at {endpoint} is not usable ({_describe(exc)}); "
                    f"start the platform with `mcp-trading start`, check the key in "
                    f"MCP_TRADING_API_KEY, or run `mcp-trading mcp --embedded`") from None
            routes.add(upstream, tools, templates, prompts)
        yield routes


def _build_proxy_server(routes: ServiceRoutes) -> Server[Any]:
    """A low-level MCP server that forwards every request to the owning service."""

    async def list_tools(_ctx: Any, _params: PaginatedRequestParams | None) -> ListToolsResult:
        return ListToolsResult(tools=routes.tools)

    async def call_tool(_ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        upstream = routes.tool_owner.get(params.name)
        if upstream is None:
            return error_result("UNKNOWN_TOOL", f"no service offers a tool named "
                                f"{params.name!r}; see tools/list")
        try:
            return await upstream.client.call_tool(params.name, params.arguments or {})
        except MCPError:
            raise
        except Exception as exc:
            return _lost(params, upstream, exc)

    async def list_templates(_ctx: Any, _params: PaginatedRequestParams | None
                             ) -> ListResourceTemplatesResult:
        return ListResourceTemplatesResult(resource_templates=routes.templates)

    async def read_resource(_ctx: Any, params: ReadResourceRequestParams) -> ReadResourceResult:
        uri = str(params.uri)
        upstream = routes.resource_owner(uri)
        if upstream is None:
            raise MCPError(code=INVALID_PARAMS, message=f"no resource matches {uri}; see "
                           "resources/templates/list")
        return await upstream.client.read_resource(uri, cache_mode="bypass")

    async def list_prompts(_ctx: Any, _params: PaginatedRequestParams | None
                           ) -> ListPromptsResult:
        return ListPromptsResult(prompts=routes.prompts)

    async def get_prompt(_ctx: Any, params: GetPromptRequestParams) -> GetPromptResult:
        upstream = routes.prompt_owner.get(params.name)
        if upstream is None:
            raise MCPError(code=INVALID_PARAMS, message=f"no prompt named {params.name!r}; see "
                           "prompts/list")
        return await upstream.client.get_prompt(params.name, params.arguments)

    return Server("mcp-trading", version=__version__,
                  instructions=instructions("all services of a running platform"),
                  on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_resource_templates=list_templates, on_read_resource=read_resource,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt)


def _lost(params: CallToolRequestParams, upstream: _Upstream, exc: Exception) -> CallToolResult:
    """The error result of a call whose reply never came back."""
    what = f"the {upstream.service} service at {upstream.url} did not answer ({_describe(exc)})"
    if params.name not in _CHANGES_ORDERS:
        return error_result("SERVICE_UNAVAILABLE", f"{what}; retry once the platform is healthy")
    # the order tools take the order's fields flat (mcp/order_args.py); replace_order too
    coid = (params.arguments or {}).get("client_order_id")
    coid = coid if isinstance(coid, str) else None
    check = (f"look it up with find_order(client_order_id={coid!r}) and retry only with that "
             "same client_order_id") if coid else "check list_orders before trying again"
    return error_result("ACK_UNCONFIRMED", f"{what}. The change may have happened: {check}",
                        client_order_id=coid)


async def serve_stdio(urls: Mapping[str, str], key: str,
                      verify: ssl.SSLContext | bool = True) -> None:
    """Serve the merged MCP face on stdin/stdout until the client disconnects."""
    async with open_routes(urls, key, verify) as routes:
        server = _build_proxy_server(routes)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
