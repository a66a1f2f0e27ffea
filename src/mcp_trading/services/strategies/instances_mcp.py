"""trading-strategies tools for live instances: start (preview → confirm, as orders), list, stop.

`start_strategy_instance` follows submit_order's flow (services/trading_engine/mcp.py): for a
key whose policy asks for confirmation, the first call checks everything and places nothing,
answering the preview (strategy, parameters as parsed, account, symbols, timeframe, warm-up
bars) and a single-use confirmation token valid 60 s; the call again with exactly the same
arguments and that token starts the instance.

In distributed mode the instances run in the trading engine's process: on the strategies
process these tools make the same calls on the engine's internal instance routes
(`/internal/strategies/...`, what the REST routes of :8090 are forwarded to) with the caller's
bearer credential, which the engine authenticates again (it is never logged nor echoed). The
preview is the engine's `?dry_run=true` check; the confirmation token stays on this process.
The engine's answer, or its error `{code, message, field?, ...}` with its status, is the
tool's result, in the same shapes as embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict

from mcp_trading.domain.errors import TradingError, UnauthenticatedError
from mcp_trading.faces.mcp.auth import current_credential, current_principal, needs
from mcp_trading.faces.mcp.confirm import ConfirmationTokens
from mcp_trading.faces.mcp.results import Outcome, error_result, guarded, ok, refusal
from mcp_trading.platform.platform import Platform
from mcp_trading.processes.distributed.engine_link import EngineLink, engine_url
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.strategies.instances import InstancesService
from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["EngineInstances", "EngineRefusalError", "InstanceOut", "InstancesOut",
           "register_instance_tools"]

_START = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                         open_world_hint=False)
_STOP = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                        open_world_hint=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class InstanceOut(_Out):
    """An instance (id, status, ...), or a preview with its confirmation_token."""

    id: str | None = None
    status: str | None = None
    preview: dict[str, Any] | None = None
    confirmation_token: str | None = None


class InstancesOut(_Out):
    instances: list[dict[str, Any]]
    count: int


class EngineRefusalError(TradingError):
    """The engine refused a forwarded call (or could not be reached): its status and body."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(str(body.get("message") or f"the trading engine answered {status}"),
                         code=str(body.get("code") or "ENGINE_ERROR"))
        self.status = status
        self.details = {k: v for k, v in body.items() if k not in ("code", "message", "status")}


class EngineInstances:
    """Distributed mode: the InstancesService calls, made on the engine with the caller's
    credential (the principal is checked there again)."""

    def __init__(self, platform: Platform) -> None:
        self.link = EngineLink(platform, "strategies", engine_url(platform))

    async def _call(self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
                    params: Mapping[str, str] | None = None) -> dict[str, Any]:
        credential = current_credential()
        if credential is None:  # never forward without one: the engine may trust loopback
            raise UnauthenticatedError("a valid API key or JWT is required as the bearer token")
        status, data = await self.link.call(method, path, credential=credential, body=body,
                                            params=params)
        if status >= 300:
            raise EngineRefusalError(status, data)
        return data

    async def check(self, _principal: Principal | None, name: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        return await self._call("POST", f"/strategies/{quote(name, safe='')}/instances",
                                body=body, params={"dry_run": "true"})

    async def start(self, _principal: Principal | None, name: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        return await self._call("POST", f"/strategies/{quote(name, safe='')}/instances",
                                body=body)

    async def list_instances(self, _principal: Principal | None, *, account: str | None = None,
                             status: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("account", account), ("status", status)) if v is not None}
        return await self._call("GET", "/strategies/instances", params=params)

    async def stop(self, _principal: Principal | None, instance_id: str, *,
                   cancel_orders: bool = False) -> dict[str, Any]:
        return await self._call("DELETE", f"/strategies/instances/{quote(instance_id, safe='')}",
                                params={"cancel_orders": "true" if cancel_orders else "false"})


def _refused(exc: Exception) -> CallToolResult:
    if isinstance(exc, EngineRefusalError):
        return error_result(exc.code, exc.message, status=exc.status, **exc.details)
    return refusal(exc)


async def _guarded(call: Callable[[], Outcome]) -> CallToolResult:
    """`guarded`, with the engine's refusals as error results too."""
    try:
        return await guarded(call)
    except EngineRefusalError as exc:  # not a kind: guarded re-raises it
        return _refused(exc)


def register_instance_tools(server: MCPServer, platform: Platform, svc: StrategiesService, *,
                            tokens: ConfirmationTokens | None = None) -> None:
    """start_strategy_instance, list_strategy_instances, stop_strategy_instance."""
    instances: InstancesService | EngineInstances = (
        EngineInstances(platform) if platform.role == "replica"
        else InstancesService(platform, svc))
    confirmations = tokens or ConfirmationTokens()

    @server.tool(annotations=_START, meta=needs(Role.TRADER))
    async def start_strategy_instance(
            *, strategy: str, symbols: list[str], account: str | None = None,
            timeframe: str | None = None, params: dict[str, Any] | None = None,
            confirmation_token: str | None = None) -> Annotated[CallToolResult, InstanceOut]:
        """Start a strategy live on the paper venue against an account (its orders are
        attributed strategy:<instance id> and obey halts and risk). The first call answers a
        preview and a confirmation_token (60 s); call again with the same arguments and the
        token to start it."""
        body: dict[str, Any] = {"symbols": symbols, "account": account,
                                "timeframe": timeframe, "params": params or {}}
        arguments = {"strategy": strategy, **body}
        try:
            caller = require(current_principal(), Role.TRADER)
            owner = caller.key_id or caller.name
            if caller.confirm_orders and not confirmation_token:
                plan = await instances.check(caller, strategy, body)
                token, ttl = confirmations.issue(owner, arguments)
                return ok({"preview": plan, "confirmation_token": token, "expires_in_s": ttl})
            if caller.confirm_orders:
                assert confirmation_token is not None
                problem = confirmations.spend(confirmation_token, owner, arguments)
                if problem is not None:
                    return error_result("CONFIRMATION_INVALID", f"{problem}; call "
                                        "start_strategy_instance again without a token for a "
                                        "new preview")
            return ok(await instances.start(caller, strategy, body))
        except Exception as exc:
            return _refused(exc)

    @server.tool(annotations=READ_ONLY)
    async def list_strategy_instances(account: str | None = None, status: str | None = None
                                      ) -> Annotated[CallToolResult, InstancesOut]:
        """Live strategy instances (running and stopped; filter by account or status): each
        with its strategy, parameters, symbols, status, bars seen and last error."""
        return await _guarded(lambda: instances.list_instances(
            current_principal(), account=account, status=status))

    @server.tool(annotations=_STOP, meta=needs(Role.TRADER))
    async def stop_strategy_instance(instance_id: str, cancel_orders: bool = False
                                     ) -> Annotated[CallToolResult, InstanceOut]:
        """Stop a live instance (journaled); cancel_orders also cancels its working orders."""
        return await _guarded(lambda: instances.stop(current_principal(), instance_id,
                                                     cancel_orders=cancel_orders))
