"""trading-strategies tools for live instances: start (preview → confirm, as orders), list, stop.

`start_strategy_instance` follows submit_order's flow (services/trading_engine/mcp.py): for a
key whose policy asks for confirmation, the first call checks everything and places nothing,
answering the preview (strategy, parameters as parsed, account, symbols, timeframe, warm-up
bars) and a single-use confirmation token valid 60 s; the call again with exactly the same
arguments and that token starts the instance.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.confirm import ConfirmationTokens
from mcp_trading.faces.mcp.results import error_result, guarded, ok, refusal
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.strategies.instances import InstancesService
from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["InstanceOut", "InstancesOut", "register_instance_tools"]

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


def register_instance_tools(server: MCPServer, platform: Platform, svc: StrategiesService, *,
                            tokens: ConfirmationTokens | None = None) -> None:
    """start_strategy_instance, list_strategy_instances, stop_strategy_instance."""
    instances = InstancesService(platform, svc)
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
            return refusal(exc)

    @server.tool(annotations=READ_ONLY)
    async def list_strategy_instances(account: str | None = None, status: str | None = None
                                      ) -> Annotated[CallToolResult, InstancesOut]:
        """Live strategy instances (running and stopped; filter by account or status): each
        with its strategy, parameters, symbols, status, bars seen and last error."""
        return await guarded(lambda: instances.list_instances(current_principal(), account=account,
                                                    status=status))

    @server.tool(annotations=_STOP, meta=needs(Role.TRADER))
    async def stop_strategy_instance(instance_id: str, cancel_orders: bool = False
                                     ) -> Annotated[CallToolResult, InstanceOut]:
        """Stop a live instance (journaled); cancel_orders also cancels its working orders."""
        return await guarded(lambda: instances.stop(current_principal(), instance_id,
                                                    cancel_orders=cancel_orders))
