"""Access rules shared by every service: roles and the account a caller may act on."""

from __future__ import annotations

from mcp_trading.platform.errors import ApiError
from mcp_trading.platform.principal import Principal, Role

__all__ = ["require", "resolve_account"]


def require(principal: Principal | None, role: Role) -> Principal:
    """The caller, if it holds at least `role`; 401 without a credential, 403 below the role."""
    if principal is None:
        raise ApiError(401, "UNAUTHENTICATED",
                       "a credential is required: send 'Authorization: Bearer <api key or JWT>' "
                       "(create a key with `mcp-trading keys create`)")
    if not principal.may(role):
        raise ApiError(403, "FORBIDDEN",
                       f"this needs the {role.label} role; the credential has {principal.role.label}")
    return principal


def resolve_account(principal: Principal, requested: str | None, default: str) -> str:
    """An account-bound credential acts only on its account; others default to `default`."""
    if principal.account_id is not None:
        if requested is not None and requested != principal.account_id:
            raise ApiError(403, "FORBIDDEN",
                           f"this credential acts on account {principal.account_id!r} only")
        return principal.account_id
    return requested or default
