"""The `api_keys` rows as the key store reads them: the public record, the cached row with its
hashes (the current one, and the previous one during a rotation's grace), the columns a
listing reads. No secret and no hash reaches a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import RowMapping

from mcp_trading.adapters.store.schema import api_keys
from mcp_trading.security.principal import Principal, Role

__all__ = ["ALL_ACCOUNTS", "PUBLIC_COLUMNS", "CachedRow", "KeyRecord", "record_from_row"]

# Stored in api_keys.account_id for a key created with all_accounts=True (`--all-accounts`):
# no account id can be "*", so it is told apart from a real account and from NULL, which
# only keys from before accounts were required have (see `KeyStore`, "legacy keys").
ALL_ACCOUNTS = "*"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as listed: everything but the secret and its hash."""

    id: str
    name: str
    role: Role
    account_id: str | None
    created_at: int  # ns since the epoch
    revoked_at: int | None
    last_used_at: int | None  # advisory: written at most once a minute
    confirm_orders: bool = True  # MCP orders need a preview_order confirmation token
    legacy: bool = False  # created before a key had to name its account (see KeyStore)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(role=self.role, key_id=self.id, account_id=self.account_id,
                         name=self.name, confirm_orders=self.confirm_orders)


@dataclass(slots=True)
class CachedRow:
    """A key's row as last read, with when: re-read once older than the store's TTL."""

    record: KeyRecord
    secret_hash: str = field(repr=False)
    checked_ns: int  # when the row was read; re-read once older than the TTL
    previous_hash: str | None = field(default=None, repr=False)  # accepted until previous_until
    previous_until: int | None = None

    def accepts(self, secret_hash: str, now: int) -> bool:
        """Whether a secret that matched `secret_hash` is valid now (current, or in grace)."""
        return secret_hash == self.secret_hash or (
            secret_hash == self.previous_hash and now < (self.previous_until or 0))

    def hashes(self, now: int) -> list[str]:
        """The hashes a secret may match now: the current one, then the previous in grace."""
        return [h for h in (self.secret_hash, self.previous_hash) if h and self.accepts(h, now)]


PUBLIC_COLUMNS = (api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.account_id,
                   api_keys.c.created_at, api_keys.c.revoked_at, api_keys.c.last_used_at,
                   api_keys.c.confirm_orders)


def record_from_row(row: RowMapping, legacy_account: str) -> KeyRecord:
    role = Role.parse(row["role"])
    stored: str | None = row["account_id"]
    legacy = stored is None
    if stored == ALL_ACCOUNTS or (legacy and role >= Role.OPERATOR):
        account_id = None  # every account, said explicitly (or an operator's role says it)
    elif legacy:
        account_id = legacy_account  # a viewer/trader key that named none: the default only
    else:
        account_id = stored
    return KeyRecord(id=row["id"], name=row["name"], role=role, account_id=account_id,
                     created_at=row["created_at"], revoked_at=row["revoked_at"],
                     last_used_at=row["last_used_at"], confirm_orders=bool(row["confirm_orders"]),
                     legacy=legacy)
