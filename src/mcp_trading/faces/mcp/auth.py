"""MCP bearer auth: our API keys and JWTs, verified by the platform's Authenticator.

The SDK's bearer middleware calls `verify_token`; the Principal rides along on the access
token, and tools read it back with `current_principal()`. There is no loopback trust on MCP.
The stdio command (`mcp-trading mcp --embedded`) verifies its key once at start and sets the
process-level principal with `set_process_principal`; HTTP servers never set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from pydantic import ConfigDict

from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role

__all__ = ["MIN_ROLE_META", "PlatformTokenVerifier", "PrincipalToken", "current_credential",
           "current_principal", "may_see", "needs", "set_process_principal"]

#: set once by the stdio command before it serves; tasks it starts inherit it
_process_principal: ContextVar[Principal | None] = ContextVar("mcp_process_principal",
                                                              default=None)


class PrincipalToken(AccessToken):
    """An access token that remembers whose it is (never rendered to the client)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    principal: Principal


class PlatformTokenVerifier:
    """A TokenVerifier over `platform.authenticator` (read per call: it is set after build)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    async def verify_token(self, token: str) -> AccessToken | None:
        authenticator = self._platform.authenticator
        if authenticator is None:
            return None
        principal = authenticator.authenticate(f"Bearer {token}", None, loopback_trust=False)
        if principal is None:
            return None
        # client_id binds MCP sessions to the key that opened them
        return PrincipalToken(token=token, client_id=principal.key_id or principal.name,
                              scopes=[principal.role.label], subject=principal.name,
                              principal=principal)


def set_process_principal(principal: Principal | None) -> None:
    """Whom every tool call without an access token acts as (stdio: one caller per process)."""
    _process_principal.set(principal)


def current_principal() -> Principal | None:
    """The calling Principal inside a tool: the verified bearer token's, else (no token at all)
    the process-level principal set by the stdio command; None when neither exists."""
    token = get_access_token()
    if token is None:
        return _process_principal.get()
    return token.principal if isinstance(token, PrincipalToken) else None


def current_credential() -> str | None:
    """The caller's verified bearer credential inside a tool (its API key or JWT), for a tool
    that forwards the call to another service which authenticates it again; None without a
    verified token (stdio's process principal has none). Never log or echo it."""
    token = get_access_token()
    return token.token if isinstance(token, PrincipalToken) else None


#: tool metadata naming the least role that may call the tool (tools/list hides it from others)
MIN_ROLE_META = "mcp-trading/min_role"


def needs(role: Role) -> dict[str, str]:
    """Tool metadata for a tool that only `role` and above may call."""
    return {MIN_ROLE_META: role.label}


def may_see(meta: Mapping[str, object] | None, principal: Principal | None) -> bool:
    """Whether tools/list shows a tool with this metadata to `principal` (None: no caller
    bound, e.g. an in-process listing: everything is shown; calls are still checked)."""
    wanted = (meta or {}).get(MIN_ROLE_META)
    if principal is None or not isinstance(wanted, str):
        return True
    return principal.may(Role.parse(wanted))
