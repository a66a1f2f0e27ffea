"""Access rules shared by every service: roles and the account a caller may act on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import (
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnauthenticatedError,
    UnavailableError,
)
from mcp_trading.security.principal import Principal, Role, credential_rejected

if TYPE_CHECKING:
    from mcp_trading.services.core import ServiceCore

__all__ = ["accounts_in_scope", "parse_time", "require", "require_running", "resolve_account"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_NS = 2**63


def require(principal: Principal | None, role: Role) -> Principal:
    """The caller, if it holds at least `role`; 401 without a credential, 403 below the role."""
    if principal is None:
        if credential_rejected():  # never echo what was sent
            raise UnauthenticatedError(
                "the credential sent is invalid, expired or revoked: check the key or token, "
                "or create a key with `mcp-trading keys create`", code="UNAUTHENTICATED")
        raise UnauthenticatedError("a credential is required: send 'Authorization: Bearer <api key or JWT>' "
                                   "(create a key with `mcp-trading keys create`)", code="UNAUTHENTICATED")
    if not principal.may(role):
        raise ForbiddenError(f"this needs the {role.label} role; the credential has {principal.role.label}",
                             code="FORBIDDEN")
    return principal


def require_running(core: ServiceCore) -> None:
    """Commands need a started platform that is not stopping (503 otherwise)."""
    if not core.accepting:
        from mcp_trading.platform.platform import NOT_RUNNING

        raise UnavailableError(NOT_RUNNING, code="UNAVAILABLE")


def resolve_account(principal: Principal, requested: str | None, default: str) -> str:
    """An account-bound credential acts only on its account; others default to `default`."""
    if principal.account_id is not None:
        if requested is not None and requested != principal.account_id:
            raise ForbiddenError(f"this credential acts on account {principal.account_id!r} only",
                                 code="FORBIDDEN")
        return principal.account_id
    return requested or default


def accounts_in_scope(accounts: dict[str, Account], caller: Principal | None,
                      account_id: str | None) -> list[Account]:
    """The accounts a query covers: the one named, the caller's own, or every non-internal."""
    if caller is not None and caller.account_id is not None:
        account_id = resolve_account(caller, account_id, caller.account_id)
    if account_id:
        account = accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                                field="account_id")
        return [account]
    return [a for a in accounts.values() if not a.internal]


def parse_time(name: str, value: str | None) -> int | None:
    """An ISO 8601 time as ns since the epoch (naive times are UTC); None when absent."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidError(f"{name}: {value!r} is not an ISO 8601 time; "
                           "use e.g. 2026-01-02T14:30:00Z or 2026-01-02", code="INVALID_PARAMETER",
                           field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ns = (moment - _EPOCH) // timedelta(microseconds=1) * 1000
    if not 0 <= ns < _MAX_NS:  # timestamps are int64 nanoseconds in the store
        raise InvalidError(f"{name}: {value!r} is out of range; use a time "
                           "from 1970-01-01 to 2262-04-11", code="INVALID_PARAMETER", field=name)
    return ns
