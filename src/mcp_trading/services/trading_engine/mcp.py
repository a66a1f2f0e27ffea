"""trading-engine tools: preview and submit (with a confirmation token), cancel, replace,
read orders, positions and accounts, and the operator's halt.

Every order placed or replaced here is attributed to the MCP caller's key and name. Whether
submit_order needs a preview_order confirmation token is the caller's key policy
(`confirm_orders`, on unless the key was created with --no-confirm-orders). Resume is never
an agent tool: it stays an operator action on REST and the CLI.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from mcp_trading.domain.numbers import text_at
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.confirm import ConfirmationTokens
from mcp_trading.faces.mcp.models import (
    AccountOut,
    AccountsOut,
    HaltOut,
    Number,
    OrderOut,
    PositionsOut,
    PreviewOut,
    SubmitOut,
)
from mcp_trading.faces.mcp.order_args import flat_order_args
from mcp_trading.faces.mcp.results import error_result, guarded, ok, refusal
from mcp_trading.faces.order_schema import order_payload
from mcp_trading.platform.platform import Platform, PlatformUnavailableError
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.orders import mcp as orders_mcp
from mcp_trading.services.risk.service import RiskService
from mcp_trading.services.trading_engine.accounts import AccountsService
from mcp_trading.services.trading_engine.service import OrderRejectedError, TradingService

__all__ = ["attribution", "register"]

_PLACE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                         open_world_hint=False)
# a second cancel of the same order changes nothing more
_CANCEL = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                          open_world_hint=False)
_PREVIEW = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False,
                           open_world_hint=False)
#: submit_order's one argument beyond the order's fields
_CONFIRMATION = inspect.Parameter(
    "confirmation_token", inspect.Parameter.KEYWORD_ONLY, default=None,
    annotation=Annotated[str | None, Field(description=(
        "The single-use token preview_order returned for exactly these arguments (needed "
        "unless your key was created with --no-confirm-orders)"))])


def attribution(principal: Principal) -> str:
    """How an MCP-placed order is attributed in the journal: key and agent name."""
    return f"mcp:{principal.actor}:{principal.name}"


def _owner(principal: Principal) -> str:
    return principal.key_id or principal.name


def register(server: MCPServer, platform: Platform, *,
             tokens: ConfirmationTokens | None = None) -> None:
    """The trading-engine tools, in the order tools/list shows them."""
    trading = TradingService(platform.core)
    confirmations = tokens or ConfirmationTokens()
    orders_mcp.register(server, platform)  # the order reads: the orders service's tools
    _register_preview(server, RiskService(platform.core), confirmations)
    _register_submit(server, trading, confirmations)
    _register_order_changes(server, trading)
    _register_account_reads(server, trading, AccountsService(platform.core))
    _register_halt(server, trading)


def _register_preview(server: MCPServer, risk: RiskService,
                      confirmations: ConfirmationTokens) -> None:
    """preview_order: the dry run that issues the confirmation token."""

    @server.tool(annotations=_PREVIEW, meta=needs(Role.TRADER))
    @flat_order_args()
    async def preview_order(**order: Any) -> Annotated[CallToolResult, PreviewOut]:
        """Run every pre-trade check on the live state and estimate the fill; places nothing.

        Returns a single-use confirmation token, valid 60 s, for submit_order with exactly
        these arguments. A refusal is an error result with the reason code and the figures.
        A repeated client_order_id with the same arguments answers with the order placed
        before (idempotent_retry): submitting again returns that order.
        """
        try:
            arguments = order_payload(order)
            caller = require(current_principal(), Role.TRADER)
            check = risk.check(caller, arguments)
        except Exception as exc:
            return refusal(exc)
        if not check["would_accept"]:
            return error_result(check["code"], check["message"], **{
                k: v for k, v in check.items() if k not in ("code", "message")})
        ref = check["reference_price"]
        token, ttl = confirmations.issue(_owner(caller), arguments)
        # both bounded (price and quantity <= 1e9, 9 places): the product fits, the text is short
        notional = None if ref is None else text_at(Decimal(ref) * Decimal(arguments["qty"]),
                                                    _CENTS)
        return ok({**check, "estimated_notional": notional, "confirmation_token": token,
                   "expires_in_s": ttl})


def _register_submit(server: MCPServer, trading: TradingService,
                     confirmations: ConfirmationTokens) -> None:
    """submit_order: spends the confirmation token (when the key's policy asks for one)."""

    @server.tool(annotations=_PLACE, meta=needs(Role.TRADER))
    @flat_order_args(_CONFIRMATION)
    async def submit_order(**order: Any) -> Annotated[CallToolResult, SubmitOut]:
        """Place an order on the paper venue. Give a client_order_id so a retry is safe.

        Needs the confirmation_token preview_order returned for exactly these arguments.
        A risk refusal is an error result with the reason code; if the acknowledgement times
        out the order may exist: look it up with find_order, and retry only with the same
        client_order_id.
        """
        confirmation_token = order.pop("confirmation_token", None)
        try:
            arguments = order_payload(order)
            caller = require(current_principal(), Role.TRADER)
        except Exception as exc:
            return refusal(exc)
        if caller.confirm_orders:
            if not confirmation_token:
                return error_result("CONFIRMATION_REQUIRED", "call preview_order with these "
                                    "arguments first and pass its confirmation_token")
            problem = confirmations.spend(confirmation_token, _owner(caller), arguments)
            if problem is not None:
                return error_result("CONFIRMATION_INVALID", f"{problem}; call preview_order "
                                    "again with exactly the arguments you will submit")
        try:
            view, accepted = await trading.submit_order(caller, arguments,
                                                        attribution=attribution(caller))
        except PlatformUnavailableError as exc:
            coid = arguments.get("client_order_id")
            retry = (f"look it up with find_order(client_order_id={coid!r}) and retry only with "
                     "that same client_order_id") if coid else (
                     "list your open orders before placing it again; next time give a "
                     "client_order_id so a retry is safe")
            return error_result("ACK_UNCONFIRMED", f"{exc}. The order may exist: {retry}",
                                client_order_id=coid)
        except Exception as exc:
            return refusal(exc)
        if not accepted:  # the same refusal REST answers: {code, message, status, order}
            return refusal(OrderRejectedError(view))
        return ok({"order": view, "environment": "paper"})


def _register_order_changes(server: MCPServer, trading: TradingService) -> None:
    """cancel_order and replace_order."""

    @server.tool(annotations=_CANCEL, meta=needs(Role.TRADER))
    async def cancel_order(order_id: str) -> Annotated[CallToolResult, OrderOut]:
        """Cancel a working order (cancels never pass through risk)."""
        return await guarded(lambda: trading.cancel_order(current_principal(), order_id))

    @server.tool(annotations=_PLACE, meta=needs(Role.TRADER))
    async def replace_order(order_id: str, *, qty: Number | None = None,
                            limit_price: Number | None = None, stop_price: Number | None = None,
                            time_in_force: Literal["day", "gtc", "ioc", "fok"] | None = None,
                            client_order_id: str | None = None
                            ) -> Annotated[CallToolResult, OrderOut]:
        """Cancel/replace: a new order replaces the old (linked by replaces / replaced_by)."""
        changes = {k: v for k, v in {"qty": qty, "limit_price": limit_price,
                                     "stop_price": stop_price, "time_in_force": time_in_force,
                                     "client_order_id": client_order_id}.items() if v is not None}
        def replace() -> Awaitable[dict[str, Any]]:
            caller = require(current_principal(), Role.TRADER)
            return trading.replace_order(caller, order_id, changes,
                                         attribution=attribution(caller))

        return await guarded(replace)


def _register_account_reads(server: MCPServer, trading: TradingService,
                            accounts: AccountsService) -> None:
    """get_positions, get_account and list_accounts."""

    @server.tool(annotations=READ_ONLY)
    async def get_positions(account_id: str | None = None
                            ) -> Annotated[CallToolResult, PositionsOut]:
        """Open positions of your account."""
        return await guarded(lambda: {"positions": trading.positions(current_principal(),
                                                                      account_id)})

    @server.tool(annotations=READ_ONLY)
    async def get_account(account_id: str | None = None) -> Annotated[CallToolResult, AccountOut]:
        """Cash, equity, buying power, trading state and limits of your account."""
        return await guarded(lambda: trading.account(current_principal(), account_id))

    @server.tool(annotations=READ_ONLY)
    async def list_accounts() -> Annotated[CallToolResult, AccountsOut]:
        """The accounts you may see: a key bound to an account sees only that one."""
        return await guarded(lambda: accounts.list_accounts(current_principal()))


def _register_halt(server: MCPServer, trading: TradingService) -> None:
    """halt, for operators (resume stays a REST and CLI action)."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True,
                                             idempotent_hint=True, open_world_hint=False),
                 meta=needs(Role.OPERATOR))
    async def halt(reason: str, new_orders_only: bool = False
                   ) -> Annotated[CallToolResult, HaltOut]:
        """Operators only: halt trading (cancels every working order) or only new orders.

        Resuming is not available to agents.
        """
        level = TradingState.HALTED_NEW_ORDERS if new_orders_only else TradingState.HALTED
        return await guarded(lambda: trading.halt(current_principal(), level=level,
                                                  reason=reason.strip() or None))


_CENTS = Decimal("0.01")
