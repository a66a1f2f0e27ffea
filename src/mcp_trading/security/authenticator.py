"""Who a request is: its credentials (an API key or a JWT) turned into a Principal, and the
dev profile's trust of credential-less loopback callers.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import replace
from typing import Literal

from sqlalchemy import Engine

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.security.exposure import check_secret_files
from mcp_trading.security.keys import KEY_PREFIX, KeyStore
from mcp_trading.security.principal import Principal, Role, note_credential
from mcp_trading.security.rotation import jwt_ring
from mcp_trading.security.tokens import TokenIssuer, check_jwt_secret

__all__ = ["LOOPBACK_PRINCIPAL", "Authenticator", "Profile", "build_authenticator", "is_loopback"]

Profile = Literal["dev", "production"]

# The dev profile's credential-less caller (REST only); `actor` is "local:loopback".
LOOPBACK_PRINCIPAL = Principal(role=Role.OPERATOR, key_id=None, account_id=None, name="loopback")


@functools.lru_cache(maxsize=4096)
def is_loopback(client_host: str | None) -> bool:
    """Whether a request's peer address is this machine."""
    if client_host is None:
        return False
    if client_host == "testclient":  # the literal client host Starlette's TestClient reports
        return True
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 on dual-stack sockets
    return address.is_loopback  # 127.0.0.0/8 and ::1


def _presented(authorization_header: str | None, api_key: str | None) -> tuple[bool, str | None]:
    """(whether any credential was presented, the credential if it is well-formed)."""
    values: list[str] = []
    if authorization_header is not None:
        scheme, _, rest = authorization_header.strip().partition(" ")
        values.append(rest.strip() if scheme.lower() == "bearer" else "")
    if api_key is not None:
        values.append(api_key.strip())
    if not values:
        return False, None
    if not all(values) or len(set(values)) > 1:  # empty, not Bearer, or two that disagree
        return True, None
    return True, values[0]


class Authenticator:
    """Turns a request's credentials into a Principal, or None (the route answers 401)."""

    def __init__(self, keys: KeyStore, tokens: TokenIssuer, profile: Profile) -> None:
        if profile not in ("dev", "production"):
            raise ValueError(f"profile was {profile!r}; must be 'dev' or 'production'")
        self._keys = keys
        self._tokens = tokens
        self._profile = profile

    @property
    def profile(self) -> Profile:
        return self._profile

    def close(self) -> None:
        self._keys.close()

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        """Who is calling, from `Authorization: Bearer <api key or JWT>` and/or `X-API-Key`.

        A presented credential must be valid: a bad one is rejected, never downgraded to the
        loopback trust. With no credential at all, the dev profile trusts loopback peers as
        operator; pass loopback_trust=False for MCP, which always needs a bearer token. The
        production profile has no such trust.
        """
        presented, credential = _presented(authorization_header, api_key)
        if presented:
            principal = None if credential is None else self._verify(credential)
            note_credential(principal is None)
            return principal
        note_credential(False)
        if loopback_trust and self._profile == "dev" and is_loopback(client_host):
            return LOOPBACK_PRINCIPAL
        return None

    def _verify(self, credential: str) -> Principal | None:
        if credential.startswith(KEY_PREFIX):
            return self._keys.verify(credential)
        principal = self._tokens.verify(credential)
        if principal is None or principal.key_id is None:
            return None
        # A token dies with its key: revoking the key ends its tokens within the store's TTL.
        record = self._keys.active_record(principal.key_id)
        if record is None:
            return None
        if principal.account_id != record.account_id:  # a token from before a scope rule
            principal = replace(principal, account_id=record.account_id)
        return principal


def build_authenticator(settings: Settings, *, engine: Engine | None = None) -> Authenticator:
    """The server's authenticator; in production refuses a secrets file others may read and
    an insecure JWT secret before anything else.

    JWTs are verified with the key ring of the secrets file (`security.rotation.jwt_ring`),
    re-read when the file changes, so a rotation needs no restart.

    Without `engine` it opens one on the configured database (keys are read lazily, so the
    schema only has to be at head by the first authenticated request); `close()` disposes it.
    """
    check_secret_files(settings)
    ring = jwt_ring(settings)
    # the key that signs: JWT_SECRET until the first rotation, then the secrets file's newest
    check_jwt_secret(settings.profile, ring(True)[0].secret)
    tokens = TokenIssuer(ring=ring)
    keys = KeyStore(engine if engine is not None
                    else create_store_engine(settings.resolved_database_url),
                    legacy_account=settings.default_account)
    return Authenticator(keys, tokens, settings.profile)
