"""Accounts: list and read them (scoped to the caller), and open new ones through the kernel.

Framework-free: the REST routes (trading-engine :8010 `/accounts`), the MCP `list_accounts`
tool and the CLI's offline path call these. Opening an account is a journaled kernel command
(`AccountOpened`), so an account exists exactly when the journal says so and survives every
restart; the kernel stays the single writer.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import ConflictError, InvalidError, NotFoundError, UnavailableError
from mcp_trading.domain.numbers import Bounds, parse_decimal
from mcp_trading.kernel.kernel import Kernel
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.views import account_view

__all__ = ["ACCOUNT_ID_PATTERN", "MAX_CASH", "AccountsService", "check_new_account",
           "parse_account_id", "parse_cash", "visible_accounts"]

log = logging.getLogger(__name__)

# Letters, digits, '-' and '_', starting with a letter or digit: a leading '_' is the
# platform's own (`_selftest`), and '*' is the API key table's "every account".
ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
# A new account's cash: at most 12 integer digits and cents (the domain parser's bounds).
MAX_CASH = Decimal("1000000000000")  # 1e12
OPENING_CASH = Bounds("opening cash", MAX_CASH, places=2)


def parse_account_id(value: object) -> str:
    """A valid new account id, or a 422 naming the rule."""
    if not isinstance(value, str) or not ACCOUNT_ID_PATTERN.fullmatch(value):
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidError(f"account_id: {shown} is not allowed; use 1-32 "
                           "letters, digits, '-' or '_', starting with a letter or digit "
                           "(e.g. swing-1)", code="INVALID_ACCOUNT", field="account_id")
    return value


def parse_cash(value: object) -> Decimal:
    """Starting cash: a decimal number (string or JSON number) > 0, <= 1e12, in cents."""
    return parse_decimal("cash", value, OPENING_CASH, _invalid_account)


def _invalid_account(field: str, why: str) -> InvalidError:
    return InvalidError(f"{field}: {why}", code="INVALID_ACCOUNT", field=field)


def check_new_account(kernel: Kernel, account_id: object, cash: object) -> tuple[str, Decimal]:
    """Validate an open-account command against the kernel's state (409 if the id is taken)."""
    valid_id, valid_cash = parse_account_id(account_id), parse_cash(cash)
    if valid_id in kernel.state.accounts:
        raise ConflictError(f"account {valid_id!r} already exists; pick "
                            "another id (`mcp-trading accounts list` shows the taken ones)",
                            code="ACCOUNT_EXISTS", field="account_id")
    return valid_id, valid_cash


def visible_accounts(accounts: dict[str, Account], caller: Principal) -> list[Account]:
    """What a caller may list: its own account if the key is bound, else every customer one."""
    if caller.account_id is not None:
        own = accounts.get(caller.account_id)
        return [own] if own is not None else []
    return [a for a in accounts.values() if not a.internal]


class AccountsService:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    def list_accounts(self, principal: Principal | None) -> dict[str, Any]:
        """The accounts the caller may see: a bound key sees only its own."""
        caller = require(principal, Role.VIEWER)
        accounts = visible_accounts(self.kernel.state.accounts, caller)
        return {"accounts": [account_view(a) for a in sorted(accounts, key=lambda a: a.id)]}

    def get_account(self, principal: Principal | None, account_id: str) -> dict[str, Any]:
        """One account (403 for another account than a bound key's, 404 if unknown)."""
        caller = require(principal, Role.VIEWER)
        resolved = resolve_account(caller, account_id, account_id)
        account = self.kernel.state.accounts.get(resolved)
        if account is None:
            raise NotFoundError(f"account {resolved!r} does not exist; "
                                "GET /accounts lists them", code="UNKNOWN_ACCOUNT", field="account_id")
        return account_view(account)

    async def create_account(self, principal: Principal | None, account_id: object,
                             cash: object) -> dict[str, Any]:
        """Open an account (operators): journaled before the answer, so it survives a restart."""
        caller = require(principal, Role.OPERATOR)
        reason = self.core.unavailable_reason()
        if reason is not None:
            raise UnavailableError(reason, code="UNAVAILABLE")
        kernel = self.kernel
        valid_id, valid_cash = check_new_account(kernel, account_id, cash)
        # no await between the check and the command: the event loop is the single writer
        account = kernel.open_account(valid_id, valid_cash)
        await self.core.durable()
        log.info("account %s opened with cash %s by %s", valid_id, valid_cash, caller.actor)
        return account_view(account)
