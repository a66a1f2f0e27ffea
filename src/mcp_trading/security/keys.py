"""Credentials: API keys (argon2-hashed in the store), JWTs (HS256), and who a request is.

Errors (both also derive from the root, domain/errors.py: TradingError)::

    LookupError, NotFoundError
    └── UnknownKeyError       a key id that was never issued (revoke, get)
    ValueError
    └── InsecureSecretError   the production profile with an empty, default, short or
                              low-entropy JWT_SECRET

No secret reaches an exception message, a repr or a log line: `KeyRecord` has no hash field,
errors name key ids only, and `redact` masks keys and tokens in free text for log processors.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import re
import secrets
import string
import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, RowMapping, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import api_keys
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.domain.errors import NotFoundError, TradingError
from mcp_trading.kernel.ports import Clock
from mcp_trading.security.principal import Principal, Role

__all__ = [
    "ALL_ACCOUNTS",
    "DEV_DEFAULT_JWT_SECRET",
    "ISSUER",
    "KEY_PREFIX",
    "LOOPBACK_PRINCIPAL",
    "MIN_JWT_SECRET_BITS",
    "MIN_JWT_SECRET_LENGTH",
    "Authenticator",
    "InsecureSecretError",
    "KeyRecord",
    "KeyStore",
    "Profile",
    "TokenIssuer",
    "UnknownKeyError",
    "build_authenticator",
    "check_jwt_secret",
    "estimate_secret_bits",
    "is_loopback",
    "redact",
    "redact_event",
]

log = logging.getLogger(__name__)

Profile = Literal["dev", "production"]

KEY_PREFIX = "mcpt_"
ISSUER = "mcp-trading"
DEV_DEFAULT_JWT_SECRET = "dev-insecure-change-me"
MIN_JWT_SECRET_LENGTH = 32  # bytes (UTF-8)
MIN_JWT_SECRET_BITS = 128  # estimated; `secrets.token_urlsafe(48)` estimates at ~350
_ZLIB_OVERHEAD = 6  # bytes: the 2-byte header and 4-byte Adler-32 of a zlib stream

# Ids are alphanumeric (a subset of url-safe) so `mcpt_<id>_<secret>` splits at the first "_".
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 12
_SECRET_BYTES = 32  # token_urlsafe(32): 43 characters
_MAX_CREDENTIAL_LENGTH = 4096  # refuse before hashing anything absurd
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+")
_NS = 1_000_000_000
_LAST_USED_EVERY_NS = 60 * _NS
_MAX_REJECTIONS = 4096

# Stored in api_keys.account_id for a key created with all_accounts=True (`--all-accounts`):
# no account id can be "*", so it is told apart from a real account and from NULL, which
# only keys from before accounts were required have (see `KeyStore`, "legacy keys").
ALL_ACCOUNTS = "*"

# The dev profile's credential-less caller (REST only); `actor` is "local:loopback".
LOOPBACK_PRINCIPAL = Principal(role=Role.OPERATOR, key_id=None, account_id=None, name="loopback")


class UnknownKeyError(NotFoundError, LookupError):
    """No API key with this id was ever issued."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key with id {key_id!r}; `mcp-trading keys list` shows the ids")
        self.key_id = key_id


class InsecureSecretError(TradingError, ValueError):
    """The production profile was given a JWT secret anyone could guess."""


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
class _Cached:
    record: KeyRecord
    secret_hash: str = field(repr=False)
    checked_ns: int  # when the row was read; re-read once older than the TTL


_PUBLIC_COLUMNS = (api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.account_id,
                   api_keys.c.created_at, api_keys.c.revoked_at, api_keys.c.last_used_at,
                   api_keys.c.confirm_orders)


def _record(row: RowMapping, legacy_account: str) -> KeyRecord:
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


def _split_key(plaintext: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed `mcpt_<id>_<secret>`, else None."""
    if len(plaintext) > _MAX_CREDENTIAL_LENGTH or not plaintext.startswith(KEY_PREFIX):
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
        self._rows: dict[str, _Cached] = {}  # existing keys only, so bounded by the table
        self._verified: dict[str, bytes] = {}  # id -> SHA-256 of the secret argon2 accepted
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
            accepted = self._verified.get(key_id)
            if accepted is None and self._is_rejected((key_id, digest), now):
                return None
        if accepted is not None and not hmac.compare_digest(accepted, digest):
            return None  # an id has exactly one secret, and this is not it: no argon2 needed
        cached = self._status(key_id, now)
        if cached is None or not cached.record.active:
            self._reject((key_id, digest), now)
            return None
        if accepted is None:
            if not self._hash_matches(cached.secret_hash, secret):
                self._reject((key_id, digest), now)
                return None
            with self._lock:
                self._verified[key_id] = digest
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

    def _status(self, key_id: str, now: int) -> _Cached | None:
        with self._lock:
            cached = self._rows.get(key_id)
        # `0 <=` also forces a re-read when the wall clock stepped backwards.
        if cached is not None and 0 <= now - cached.checked_ns < self._ttl_ns:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(select(*_PUBLIC_COLUMNS, api_keys.c.secret_hash)
                               .where(api_keys.c.id == key_id)).mappings().first()
        with self._lock:
            if row is None:
                self._rows.pop(key_id, None)
                self._verified.pop(key_id, None)
                return None
            fresh = _Cached(record=_record(row, self._legacy_account),
                            secret_hash=row["secret_hash"], checked_ns=now)
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

    def _touch(self, cached: _Cached, now: int) -> None:
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


def _signing_key(secret: str) -> bytes:
    # A labelled HMAC-SHA256 derivation: always 32 bytes (PyJWT warns on shorter HMAC keys, and
    # the dev default is short), and separated from any other use of the same secret. It adds
    # no entropy; production strength comes from `check_jwt_secret`.
    return hmac.new(b"mcp-trading jwt hs256 v1", secret.encode(), hashlib.sha256).digest()


class TokenIssuer:
    """Short-lived HS256 JWTs for key-bound principals.

    Signs with `secret`; verifies with it or any of `previous_secrets`, so tokens issued before
    a rotation stay valid until they expire. The HMAC key is derived from the secret (see
    `_signing_key`), so verify tokens through this class, not with the raw secret.
    """

    def __init__(self, secret: str, ttl_s: int = 900, *, previous_secrets: Sequence[str] = (),
                 clock: Clock | None = None) -> None:
        if not secret:
            raise ValueError("the JWT secret is empty; set JWT_SECRET")
        if ttl_s <= 0:
            raise ValueError(f"token lifetime was {ttl_s} s; must be > 0")
        self._key = _signing_key(secret)
        self._keys = [self._key, *(_signing_key(s) for s in previous_secrets if s)]
        self._ttl_s = ttl_s
        self._clock: Clock = clock if clock is not None else WallClock()

    def issue(self, principal: Principal) -> str:
        """A token carrying the principal's key id, role, account and name."""
        if principal.key_id is None:
            raise ValueError("only a key-bound principal can get a token (revoking its key is "
                             "what ends the token); create a key with `mcp-trading keys create`")
        now = self._clock.now_ns() // _NS
        claims = {"sub": principal.key_id, "role": principal.role.label,
                  "acct": principal.account_id, "name": principal.name,
                  "cfm": principal.confirm_orders,
                  "iat": now, "exp": now + self._ttl_s, "iss": ISSUER}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal | None:
        """The token's principal; None if malformed, forged, expired or from another issuer."""
        if len(token) > _MAX_CREDENTIAL_LENGTH:
            return None
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token, key, algorithms=["HS256"], issuer=ISSUER,
                    # expiry is checked below against the injected clock
                    options={"require": ["sub", "role", "iat", "exp", "iss"],
                             "verify_exp": False, "verify_iat": False, "verify_nbf": False})
            except jwt.InvalidSignatureError:
                continue  # maybe signed with a previous secret
            except jwt.PyJWTError:
                return None
            return self._principal(claims)
        return None

    def _principal(self, claims: dict[str, Any]) -> Principal | None:
        sub, role, acct, name, exp = (claims.get(k) for k in ("sub", "role", "acct", "name", "exp"))
        confirm = claims.get("cfm", True)  # a token without the claim keeps the safe default
        if not (isinstance(sub, str) and isinstance(role, str) and isinstance(exp, int)
                and isinstance(acct, str | None) and isinstance(name, str | None)
                and isinstance(confirm, bool)):
            return None
        if exp <= self._clock.now_ns() // _NS:
            return None
        try:
            parsed = Role.parse(role)
        except ValueError:
            return None
        return Principal(role=parsed, key_id=sub, account_id=acct, name=name or sub,
                         confirm_orders=confirm)


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
    values: builtins.list[str] = []
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
            return None if credential is None else self._verify(credential)
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


def estimate_secret_bits(secret: str) -> float:
    """A conservative estimate of a secret's entropy in bits (an upper bound on its strength).

    The smallest of three estimates, each of which a guessable secret fails: the Shannon
    entropy of its characters times its length (40 x `a` is 0 bits), its length times
    log2 of the character classes it draws on (digits only: 3.3 bits a character), and the
    size zlib compresses it to (`abcd` repeated compresses to a few bytes). A random string
    scores near its true entropy; a passphrase of words scores too high, so this only ever
    refuses, never certifies.
    """
    data = secret.encode()
    if not data:
        return 0.0
    n = len(data)
    shannon = -sum(c / n * math.log2(c / n) for c in Counter(data).values()) * n
    pool = sum(size for present, size in (
        (any(chr(b).islower() for b in data if b < 128), 26),
        (any(chr(b).isupper() for b in data if b < 128), 26),
        (any(chr(b).isdigit() for b in data if b < 128), 10),
        (any(not chr(b).isalnum() for b in data if b < 128), 33),  # printable punctuation
        (any(b >= 128 for b in data), 128),  # non-ASCII bytes
    ) if present)
    classes = n * math.log2(pool) if pool > 1 else 0.0
    compressed = max(0, len(zlib.compress(data, 9)) - _ZLIB_OVERHEAD) * 8
    return min(shannon, classes, float(compressed))


def check_jwt_secret(profile: Profile, secret: str | None) -> None:
    """Refuse, in production, a JWT secret that is empty, the documented default, short or
    guessable (under MIN_JWT_SECRET_BITS by `estimate_secret_bits`). Never echoes the secret."""
    if profile != "production":
        return
    if not secret or not secret.strip():
        problem = "JWT_SECRET is empty"
    elif secret == DEV_DEFAULT_JWT_SECRET:
        problem = "JWT_SECRET is the documented development default"
    elif len(secret.encode()) < MIN_JWT_SECRET_LENGTH:
        problem = f"JWT_SECRET is shorter than {MIN_JWT_SECRET_LENGTH} bytes"
    elif (bits := estimate_secret_bits(secret)) < MIN_JWT_SECRET_BITS:
        problem = (f"JWT_SECRET has too little entropy (estimated {bits:.0f} bits, at least "
                   f"{MIN_JWT_SECRET_BITS} needed: it repeats characters or draws on too few)")
    else:
        return
    raise InsecureSecretError(
        f"{problem}; the production profile will not start with it. Generate one with "
        "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"` and set JWT_SECRET "
        "in the environment or .env")


def build_authenticator(settings: Settings, *, engine: Engine | None = None) -> Authenticator:
    """The server's authenticator; refuses an insecure production JWT secret before anything else.

    Without `engine` it opens one on the configured database (keys are read lazily, so the
    schema only has to be at head by the first authenticated request); `close()` disposes it.
    """
    check_jwt_secret(settings.profile, settings.jwt_secret)
    tokens = TokenIssuer(settings.jwt_secret)
    keys = KeyStore(engine if engine is not None
                    else create_store_engine(settings.resolved_database_url),
                    legacy_account=settings.default_account)
    return Authenticator(keys, tokens, settings.profile)


_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s,;\"']+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_KEY = re.compile(r"mcpt_(?:([A-Za-z0-9]{12})_)?[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """Mask bearer credentials, our API keys (the id stays) and JWTs in free text."""
    text = _BEARER.sub(r"\1***", text)
    text = _JWT.sub("eyJ***", text)
    return _KEY.sub(lambda m: f"{KEY_PREFIX}{m[1]}_***" if m[1] else f"{KEY_PREFIX}***", text)


def redact_event(_logger: object, _method: str,
                 event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor applying `redact` to every string value of an event."""
    for name, value in event_dict.items():
        if isinstance(value, str):
            event_dict[name] = redact(value)
    return event_dict
