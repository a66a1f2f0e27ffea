"""JWTs (HS256, short-lived, for key-bound principals) and the rules for their secret.

Errors (also derived from the root, domain/errors.py: TradingError)::

    ValueError
    └── InsecureSecretError   the production profile with an empty, default, short or
                              low-entropy JWT_SECRET

No secret reaches an exception message, a repr or a log line.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jwt

from mcp_trading.clocks import WallClock
from mcp_trading.config_secrets import SigningKey
from mcp_trading.domain.errors import TradingError
from mcp_trading.kernel.ports import Clock
from mcp_trading.security.keys import MAX_CREDENTIAL_LENGTH
from mcp_trading.security.principal import Principal, Role

if TYPE_CHECKING:
    from mcp_trading.security.authenticator import Profile

__all__ = [
    "DEV_DEFAULT_JWT_SECRET",
    "ISSUER",
    "MIN_JWT_SECRET_BITS",
    "MIN_JWT_SECRET_LENGTH",
    "InsecureSecretError",
    "RingSource",
    "TokenIssuer",
    "check_jwt_secret",
    "estimate_secret_bits",
    "fingerprint_kid",
    "static_ring",
]

ISSUER = "mcp-trading"
DEV_DEFAULT_JWT_SECRET = "dev-insecure-change-me"
MIN_JWT_SECRET_LENGTH = 32  # bytes (UTF-8)
MIN_JWT_SECRET_BITS = 128  # estimated; `secrets.token_urlsafe(48)` estimates at ~350
_ZLIB_OVERHEAD = 6  # bytes: the 2-byte header and 4-byte Adler-32 of a zlib stream
_NS = 1_000_000_000


class InsecureSecretError(TradingError, ValueError):
    """The production profile was given a JWT secret anyone could guess."""


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str) -> bytes:
    # A labelled HMAC-SHA256 derivation: always 32 bytes (PyJWT warns on shorter HMAC keys, and
    # the dev default is short), and separated from any other use of the same secret. It adds
    # no entropy; production strength comes from `check_jwt_secret`. Cached: the ring is
    # re-read on rotation, and a derivation per verify would be wasted work.
    return hmac.new(b"mcp-trading jwt hs256 v1", secret.encode(), hashlib.sha256).digest()


def fingerprint_kid(secret: str) -> str:
    """The key id of a secret given as such (JWT_SECRET, `previous_secrets`): 48 bits of a
    labelled HMAC of it, which says nothing usable about a secret worth its name."""
    return "s-" + hmac.new(b"mcp-trading jwt kid v1", secret.encode(), hashlib.sha256).hexdigest()[:12]


def static_ring(secret: str, previous_secrets: Sequence[str] = ()) -> tuple[SigningKey, ...]:
    """A ring of fixed secrets: the first signs, all verify, none retires."""
    return tuple(SigningKey(fingerprint_kid(s), s) for s in (secret, *previous_secrets) if s)


#: force -> the ring, signing key first; `force` asks for a fresh read (an unknown kid)
RingSource = Callable[[bool], Sequence[SigningKey]]


class TokenIssuer:
    """Short-lived HS256 JWTs for key-bound principals, signed by a key ring with key ids.

    Signs with the ring's first key and names it in the token's `kid` header; verifies a token
    only with the key it names, and only while that key is not retired (`SigningKey.retire_at`,
    the end of a rotation's grace). A token without `kid` (issued before key ids) is tried
    against every unretired key. `ring` is re-read on every call (the secrets file's source
    caches it by the file's stat) and once more, forced, when a token names a kid it lacks,
    so another host's rotation is seen as soon as its file arrives. Without `ring`, the ring
    is `secret` then `previous_secrets`, never retired. The HMAC key is derived from the
    secret (see `_signing_key`), so verify tokens through this class, not with the raw secret.
    """

    def __init__(self, secret: str | None = None, ttl_s: int = 900, *,
                 previous_secrets: Sequence[str] = (), clock: Clock | None = None,
                 ring: RingSource | None = None) -> None:
        if ring is None:
            if not secret:
                raise ValueError("the JWT secret is empty; set JWT_SECRET")
            fixed = static_ring(secret, previous_secrets)
            ring = lambda _force: fixed  # noqa: E731 - a constant source
        if ttl_s <= 0:
            raise ValueError(f"token lifetime was {ttl_s} s; must be > 0")
        self._ring = ring
        self._ttl_s = ttl_s
        self._clock: Clock = clock if clock is not None else WallClock()

    def signing_key_id(self) -> str:
        """The kid new tokens carry."""
        return self._signer().kid

    def _signer(self) -> SigningKey:
        keys = self._ring(False)
        now = self._clock.now_ns()
        for key in keys:
            if key.active(now):
                return key
        raise ValueError("every JWT key is retired; rotate with `mcp-trading secrets rotate "
                         "--jwt`")

    def issue(self, principal: Principal) -> str:
        """A token carrying the principal's key id, role, account and name."""
        if principal.key_id is None:
            raise ValueError("only a key-bound principal can get a token (revoking its key is "
                             "what ends the token); create a key with `mcp-trading keys create`")
        key = self._signer()
        now = self._clock.now_ns() // _NS
        claims = {"sub": principal.key_id, "role": principal.role.label,
                  "acct": principal.account_id, "name": principal.name,
                  "cfm": principal.confirm_orders,
                  "iat": now, "exp": now + self._ttl_s, "iss": ISSUER}
        return jwt.encode(claims, _signing_key(key.secret), algorithm="HS256",
                          headers={"kid": key.kid})

    def _candidates(self, kid: object) -> list[SigningKey]:
        now = self._clock.now_ns()
        if kid is None:
            return [k for k in self._ring(False) if k.active(now)]
        if not isinstance(kid, str):
            return []
        for force in (False, True):
            for key in self._ring(force):
                if key.kid == kid:
                    return [key] if key.active(now) else []
        return []

    def verify(self, token: str) -> Principal | None:
        """The token's principal; None if malformed, forged, expired, from another issuer or
        signed by a retired or unknown key."""
        if len(token) > MAX_CREDENTIAL_LENGTH:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        for key in self._candidates(kid):
            try:
                claims = jwt.decode(
                    token, _signing_key(key.secret), algorithms=["HS256"], issuer=ISSUER,
                    # expiry is checked below against the injected clock
                    options={"require": ["sub", "role", "iat", "exp", "iss"],
                             "verify_exp": False, "verify_iat": False, "verify_nbf": False})
            except jwt.InvalidSignatureError:
                continue  # a kid-less token: maybe signed with another key
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
