"""API keys: created, listed, revoked and verified against their argon2 hashes in the store.

JWTs are security/tokens.py; turning a request's credentials into a Principal is
security/authenticator.py; masking credentials in logs is security/redact.py.

Errors (also derived from the root, domain/errors.py: TradingError)::

    LookupError, NotFoundError
    └── UnknownKeyError       a key id that was never issued (revoke, get, rotate)
    ValueError
    └── RevokedKeyError       rotating a revoked key

A rotation (`rotate`) gives a key a new secret under the same id (its role, account and JWTs
stay); the previous secret is accepted until the grace ends, then refused. Only one previous
secret is kept: rotating again within a grace ends the older one at once.

No secret reaches an exception message, a repr or a log line: `KeyRecord` has no hash field,
errors name key ids only, and `redact` (security/redact.py) masks keys and tokens in free
text for log processors.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import re
import secrets
import string
import threading
from collections import OrderedDict
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from mcp_trading.adapters.store.schema import api_keys
from mcp_trading.clocks import WallClock
from mcp_trading.domain.errors import NotFoundError, TradingError
from mcp_trading.kernel.ports import Clock
from mcp_trading.security.key_rows import ALL_ACCOUNTS, CachedRow, KeyRecord
from mcp_trading.security.key_rows import PUBLIC_COLUMNS as _PUBLIC_COLUMNS
from mcp_trading.security.key_rows import record_from_row as _record
from mcp_trading.security.principal import Principal, Role

__all__ = [
    "ALL_ACCOUNTS",
    "KEY_PREFIX",
    "MAX_CREDENTIAL_LENGTH",
    "KeyRecord",
    "KeyStore",
    "RevokedKeyError",
    "UnknownKeyError",
]

log = logging.getLogger(__name__)

KEY_PREFIX = "mcpt_"

# Ids are alphanumeric (a subset of url-safe) so `mcpt_<id>_<secret>` splits at the first "_".
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 12
_SECRET_BYTES = 32  # token_urlsafe(32): 43 characters
MAX_CREDENTIAL_LENGTH = 4096  # refuse before hashing (or decoding) anything absurd
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+")
_NS = 1_000_000_000
_LAST_USED_EVERY_NS = 60 * _NS
_MAX_REJECTIONS = 4096

class UnknownKeyError(NotFoundError, LookupError):
    """No API key with this id was ever issued."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key with id {key_id!r}; `mcp-trading keys list` shows the ids")
        self.key_id = key_id


class RevokedKeyError(TradingError, ValueError):
    """A revoked key cannot be rotated (create a new one)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id!r} is revoked; a revoked key cannot be rotated. "
                         "Create a new one with `mcp-trading keys create`")
        self.key_id = key_id


def _split_key(plaintext: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed `mcpt_<id>_<secret>`, else None."""
    if len(plaintext) > MAX_CREDENTIAL_LENGTH or not plaintext.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = plaintext[len(KEY_PREFIX):].partition("_")
    if not sep or len(key_id) != _ID_LENGTH or not secret or not _URLSAFE.fullmatch(plaintext):
        return None
    return key_id, secret


class KeyStore:
    """API keys in the store's `api_keys` table (the schema must be at head).

    Every key names the one account it acts on, or was created with `all_accounts=True`.
    Legacy keys (created before that rule, with no account stored): an operator or admin key
    keeps acting on every account, as its role says; a viewer or trader key acts on
    `legacy_account` only (the platform's default account, `paper`, where such a key's
    orders went unless it named another), never on every account. Re-issue such a key with
    `--account` to move it elsewhere.

    `hasher` defaults to argon2id with the library's parameters; tests pass cheap ones.
    """

    def __init__(self, engine: Engine, *, hasher: PasswordHasher | None = None, ttl: float = 2.0,
                 negative_ttl: float = 60.0, clock: Clock | None = None,
                 legacy_account: str = "paper") -> None:
        self._engine = engine
        self._legacy_account = legacy_account
        self._hasher = hasher if hasher is not None else PasswordHasher()
        self._ttl_ns = int(ttl * _NS)
        self._negative_ttl_ns = int(negative_ttl * _NS)
        self._clock: Clock = clock if clock is not None else WallClock()
        self._lock = threading.Lock()
        self._rows: dict[str, CachedRow] = {}  # existing keys only, so bounded by the table
        # id -> {SHA-256 of a secret argon2 accepted: the hash it matched}
        self._verified: dict[str, dict[bytes, str]] = {}
        self._rejected: OrderedDict[tuple[str, bytes], int] = OrderedDict()  # -> expiry, ns

    def close(self) -> None:
        """Dispose of the engine (for a store that owns it, as `build_authenticator`'s does)."""
        self._engine.dispose()

    def create(self, role: Role, account_id: str | None = None, name: str | None = None, *,
               all_accounts: bool = False, confirm_orders: bool = True) -> tuple[KeyRecord, str]:
        """Issue a key; returns its record and the plaintext, which is never stored or shown again.

        The key acts on `account_id` only, or on every account with `all_accounts=True`; one
        of the two is required (ValueError otherwise), for every role. Whether the account
        exists is the caller's check (the kernel knows, not this table).
        `confirm_orders=False` lets the key's MCP orders skip the preview_order token.
        """
        if bool(account_id) == all_accounts:
            raise ValueError(
                "a key names the one account it acts on (--account ID) or says it acts on "
                "every account (--all-accounts); give exactly one" if all_accounts else
                "a key must name the account it acts on (--account ID) or say it acts on every "
                "account (--all-accounts); neither was given")
        key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        secret_hash = self._hasher.hash(secret)  # slow by design: outside the transaction
        record = KeyRecord(id=key_id, name=name or f"{role.label}-{key_id}", role=role,
                           account_id=None if all_accounts else account_id,
                           created_at=self._clock.now_ns(), revoked_at=None, last_used_at=None,
                           confirm_orders=confirm_orders)
        with self._engine.begin() as conn:
            conn.execute(insert(api_keys).values(
                id=record.id, name=record.name, role=role.label,
                account_id=ALL_ACCOUNTS if all_accounts else account_id,
                secret_hash=secret_hash, created_at=record.created_at,
                confirm_orders=confirm_orders))
        return record, f"{KEY_PREFIX}{key_id}_{secret}"

    def get(self, key_id: str) -> KeyRecord:
        """The key's record; UnknownKeyError if it was never issued."""
        with self._engine.connect() as conn:
            row = conn.execute(select(*_PUBLIC_COLUMNS).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise UnknownKeyError(key_id)
        return _record(row, self._legacy_account)

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke a key (idempotent: the first revocation time is kept); UnknownKeyError if unknown.

        Other processes holding the key in their cache stop accepting it within their TTL.
        """
        with self._engine.begin() as conn:
            conn.execute(update(api_keys)
                         .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                         .values(revoked_at=self._clock.now_ns()))
            row = conn.execute(select(*_PUBLIC_COLUMNS).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise UnknownKeyError(key_id)
        with self._lock:
            self._rows.pop(key_id, None)
        return _record(row, self._legacy_account)

    def revoke_all(self, role: Role | None = None) -> builtins.list[KeyRecord]:
        """Revoke every active key (of `role` only, if given) in one transaction, for a
        suspected breach; returns the keys it revoked, oldest first (none: an empty list).

        Like `revoke`, other processes stop accepting them within their TTL, and JWTs die
        with their keys (security/authenticator.py).
        """
        now = self._clock.now_ns()
        active = api_keys.c.revoked_at.is_(None)
        where = active if role is None else active & (api_keys.c.role == role.label)
        with self._engine.begin() as conn:
            ids = [r[0] for r in conn.execute(select(api_keys.c.id).where(where)).all()]
            if ids:
                conn.execute(update(api_keys).where(api_keys.c.id.in_(ids), active)
                             .values(revoked_at=now))
            rows = conn.execute(select(*_PUBLIC_COLUMNS).where(api_keys.c.id.in_(ids))
                                .order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
        with self._lock:
            for key_id in ids:
                self._rows.pop(key_id, None)
        return [_record(row, self._legacy_account) for row in rows]

    def rotate(self, key_id: str, grace_s: float) -> tuple[KeyRecord, str, int | None]:
        """A new secret under the same id; the current one stays valid `grace_s` seconds more.

        Returns the record, the new plaintext (shown once) and when the previous secret stops
        being accepted (None with grace 0). UnknownKeyError / RevokedKeyError otherwise.
        """
        if not 0 <= grace_s < float("inf"):
            raise ValueError(f"grace was {grace_s!r} s; must be a finite number >= 0 (e.g. 1h)")
        record = self.get(key_id)
        if not record.active:
            raise RevokedKeyError(key_id)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        secret_hash = self._hasher.hash(secret)  # slow by design: outside the transaction
        now = self._clock.now_ns()
        until = now + round(grace_s * _NS) if grace_s > 0 else None
        with self._engine.begin() as conn:
            done = conn.execute(
                update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(previous_secret_hash=api_keys.c.secret_hash if until else None,
                        previous_valid_until=until, secret_hash=secret_hash))
        if done.rowcount != 1:
            raise RevokedKeyError(key_id)  # revoked meanwhile: nothing was changed
        with self._lock:
            self._rows.pop(key_id, None)
        return record, f"{KEY_PREFIX}{key_id}_{secret}", until

    def verify(self, plaintext: str) -> Principal | None:
        """The key's principal; None for a malformed, unknown, wrong or revoked key.

        Argon2 runs once per key id and process: the accepted secret is remembered as its
        SHA-256 (compared in constant time), and the row is re-read at most every `ttl` seconds,
        so a revocation made by another process takes effect within `ttl`. A rejection is
        remembered per (id, digest) for `negative_ttl`, so repeating a bad key costs a hash.
        """
        parts = _split_key(plaintext)
        if parts is None:
            return None
        key_id, secret = parts
        digest = hashlib.sha256(secret.encode()).digest()
        now = self._clock.now_ns()
        with self._lock:
            accepted = dict(self._verified.get(key_id, {}))
            matched = next((h for d, h in accepted.items() if hmac.compare_digest(d, digest)),
                           None)
            if matched is None and self._is_rejected((key_id, digest), now):
                return None
        cached = self._status(key_id, now)
        if cached is None or not cached.record.active:
            self._reject((key_id, digest), now)
            return None
        if matched is not None and not cached.accepts(matched, now):
            matched = None  # rotated away, or its grace ended: judge it afresh
        if matched is None:
            if len(cached.hashes(now)) == 1 and cached.secret_hash in accepted.values():
                return None  # the id has one secret now, and this is not it: no argon2 needed
            matched = next((h for h in cached.hashes(now) if self._hash_matches(h, secret)), None)
            if matched is None:
                self._reject((key_id, digest), now)
                return None
            with self._lock:
                kept = {d: h for d, h in self._verified.get(key_id, {}).items()
                        if cached.accepts(h, now)}
                self._verified[key_id] = {**kept, digest: matched}
        self._touch(cached, now)
        return cached.record.principal()

    def is_active(self, key_id: str) -> bool:
        """Whether the key exists and is not revoked (cached like `verify`)."""
        return self.active_record(key_id) is not None

    def active_record(self, key_id: str) -> KeyRecord | None:
        """The key's record if it exists and is not revoked (cached like `verify`); for JWTs."""
        now = self._clock.now_ns()
        cached = self._status(key_id, now)
        if cached is None or not cached.record.active:
            return None
        self._touch(cached, now)
        return cached.record

    def _status(self, key_id: str, now: int) -> CachedRow | None:
        with self._lock:
            cached = self._rows.get(key_id)
        # `0 <=` also forces a re-read when the wall clock stepped backwards.
        if cached is not None and 0 <= now - cached.checked_ns < self._ttl_ns:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(select(*_PUBLIC_COLUMNS, api_keys.c.secret_hash,
                                      api_keys.c.previous_secret_hash,
                                      api_keys.c.previous_valid_until)
                               .where(api_keys.c.id == key_id)).mappings().first()
        with self._lock:
            if row is None:
                self._rows.pop(key_id, None)
                self._verified.pop(key_id, None)
                return None
            fresh = CachedRow(record=_record(row, self._legacy_account),
                            secret_hash=row["secret_hash"], checked_ns=now,
                            previous_hash=row["previous_secret_hash"],
                            previous_until=row["previous_valid_until"])
            self._rows[key_id] = fresh
            return fresh

    def _hash_matches(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    def _is_rejected(self, entry: tuple[str, bytes], now: int) -> bool:
        expiry = self._rejected.get(entry)  # caller holds the lock
        if expiry is None:
            return False
        if now >= expiry:
            del self._rejected[entry]
            return False
        return True

    def _reject(self, entry: tuple[str, bytes], now: int) -> None:
        with self._lock:
            self._rejected[entry] = now + self._negative_ttl_ns
            self._rejected.move_to_end(entry)
            while len(self._rejected) > _MAX_REJECTIONS:
                self._rejected.popitem(last=False)

    def _touch(self, cached: CachedRow, now: int) -> None:
        last = cached.record.last_used_at
        if last is not None and 0 <= now - last < _LAST_USED_EVERY_NS:
            return
        with self._lock:  # mark first, so concurrent requests do not all write
            cached.record = replace(cached.record, last_used_at=now)
        threshold = now - _LAST_USED_EVERY_NS
        try:
            with self._engine.begin() as conn:
                conn.execute(update(api_keys)
                             .where(api_keys.c.id == cached.record.id,
                                    or_(api_keys.c.last_used_at.is_(None),
                                        api_keys.c.last_used_at < threshold))
                             .values(last_used_at=now))
        except SQLAlchemyError as exc:
            # last_used_at is advisory; a busy database must not turn a valid key away.
            log.warning("could not record the last use of API key %s (%s)", cached.record.id,
                        type(exc).__name__)

    def list(self) -> builtins.list[KeyRecord]:
        """Every key, oldest first, revoked ones included; never a hash."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(*_PUBLIC_COLUMNS)
                                .order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
        return [_record(row, self._legacy_account) for row in rows]
