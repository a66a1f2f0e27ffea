"""Single-use order confirmation tokens: preview_order issues one, submit_order spends it.

A token is bound to the caller's key and to a hash of the exact order arguments, and lives
60 s. It proves the agent saw the pre-trade result for this very order before placing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

__all__ = ["TOKEN_TTL_S", "ConfirmationTokens", "order_digest"]

TOKEN_TTL_S = 60.0


def order_digest(arguments: Mapping[str, Any]) -> str:
    """A stable hash of the order arguments (keys sorted, nulls dropped)."""
    canonical = json.dumps({k: v for k, v in arguments.items() if v is not None},
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Issued(NamedTuple):
    owner: str
    digest: str
    expires_at: float


class ConfirmationTokens:
    """Thread-safe; `clock` returns seconds (monotonic by default, injected in tests)."""

    def __init__(self, *, ttl_s: float = TOKEN_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, _Issued] = {}

    def issue(self, owner: str, arguments: Mapping[str, Any]) -> tuple[str, float]:
        """A new token for `owner` and these arguments; returns (token, ttl in seconds)."""
        token = "cfm_" + secrets.token_urlsafe(18)
        now = self._clock()
        with self._lock:
            self._drop_expired(now)
            self._issued[token] = _Issued(owner, order_digest(arguments), now + self._ttl_s)
        return token, self._ttl_s

    def spend(self, token: str, owner: str, arguments: Mapping[str, Any]) -> str | None:
        """Consume the token; None if it was valid for these arguments, else why not."""
        now = self._clock()
        with self._lock:
            issued = self._issued.pop(token, None)
        if issued is None:
            return "the confirmation token is unknown or was already used"
        if issued.expires_at <= now:
            return "the confirmation token has expired (they live 60 s)"
        if issued.owner != owner:
            return "the confirmation token was issued to another credential"
        if not hmac.compare_digest(issued.digest, order_digest(arguments)):
            return "the order arguments differ from the previewed ones"
        return None

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, v in self._issued.items() if v.expires_at <= now]:
            del self._issued[key]
