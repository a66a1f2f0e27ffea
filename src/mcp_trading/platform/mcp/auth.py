"""MCP bearer auth: our API keys and JWTs, verified by the platform's Authenticator.

The SDK's bearer middleware calls `verify_token`; the Principal rides along on the access
token, and tools read it back with `current_principal()`. There is no loopback trust on MCP.
"""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from pydantic import ConfigDict

from mcp_trading.platform.platform import Platform
from mcp_trading.platform.principal import Principal

__all__ = ["PlatformTokenVerifier", "PrincipalToken", "current_principal"]


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


def current_principal() -> Principal | None:
    """The calling Principal inside a tool; None without a verified bearer token."""
    token = get_access_token()
    return token.principal if isinstance(token, PrincipalToken) else None
