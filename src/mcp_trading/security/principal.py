"""Who is calling: a role and, for account-bound credentials, the one account it may act on."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

__all__ = ["Authenticates", "Principal", "Role", "credential_rejected", "note_credential"]

# Whether the credential the current request presented was refused (set by every
# authenticate call), so a 401 says "invalid or revoked" rather than "required".
_rejected: ContextVar[bool] = ContextVar("credential_rejected", default=False)


def note_credential(rejected: bool) -> None:
    """Record, for this request's context, whether its presented credential was refused."""
    _rejected.set(rejected)


def credential_rejected() -> bool:
    """Whether this request presented a credential that was refused (see note_credential)."""
    return _rejected.get()


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1  # read market data, orders, positions, reports
    TRADER = 2  # submit, replace and cancel orders on its account
    OPERATOR = 3  # emergency controls, limits, maintenance, any account
    ADMIN = 4  # forced resume, key management

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            allowed = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"role {name!r} is not known; use one of: {allowed}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    key_id: str | None  # None for the dev profile's loopback trust
    account_id: str | None  # None: may act on any account (operators, admins)
    name: str  # a human or agent name, for attribution
    # MCP orders need a confirmation token from preview_order (the key's policy)
    confirm_orders: bool = True

    @property
    def actor(self) -> str:
        """How this caller is named in the journal and the emergency log."""
        return f"key:{self.key_id}" if self.key_id else f"local:{self.name}"

    def may(self, role: Role) -> bool:
        return self.role >= role


class Authenticates(Protocol):
    """Turns a request's credential into a Principal (None: no valid credential)."""

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None: ...
