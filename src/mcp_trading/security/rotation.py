"""JWT key rotation: a new signing key with a new key id; the old keys verify until grace ends.

States of one JWT key in the secrets file's ring (`jwt_keys`, see config_secrets.py)::

    signing ──rotate(grace)──▶ verifying (retire_at = now + grace) ──retire_at──▶ refused
                                                                   ──next rotate──▶ dropped

A rotation never lengthens an older key's grace (the earliest end wins), and drops the keys
already retired. With grace 0 (a suspected breach) every token signed before it is refused at
once. Nothing restarts: every process verifies through `jwt_ring`, which re-reads the file
when it changes, and at once when a token names a key id the process has not seen (a token
from a host that rotated a moment ago). Hosts that do not share the data directory need the
file copied to them (config management) — tokens of the new key are refused on a host until
its copy arrives, old tokens keep working there meanwhile.

The report (`rotate_jwt`'s dict) says what rotated, the new kid and when; never a secret.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.config_secrets import SecretsDoc, SigningKey, update_secrets
from mcp_trading.kernel.ports import Clock
from mcp_trading.security.tokens import RingSource, static_ring

__all__ = ["DEFAULT_GRACE_S", "iso_ns", "jwt_ring", "new_secret", "rotate_jwt"]

DEFAULT_GRACE_S = 3600.0
_NS = 1_000_000_000


def iso_ns(ns: int) -> str:
    """A wall-clock ns timestamp as ISO 8601 UTC (seconds)."""
    return datetime.fromtimestamp(ns / _NS, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_secret() -> str:
    """A fresh random secret (384 bits, URL-safe)."""
    return secrets.token_urlsafe(48)


def jwt_ring(settings: Settings) -> RingSource:
    """The JWT key ring every server verifies with: the secrets file's keys, or, before the
    first rotation, JWT_SECRET alone."""
    legacy = static_ring(settings.jwt_secret)

    def ring(force: bool) -> Sequence[SigningKey]:
        keys = settings.secrets(force=force).jwt_keys
        return keys if keys else legacy

    return ring


def _check_grace(grace_s: float) -> None:
    if not math.isfinite(grace_s) or grace_s < 0:
        raise ValueError(f"grace was {grace_s!r} s; must be a finite number >= 0 (e.g. 1h)")


def rotate_jwt(settings: Settings, *, grace_s: float, clock: Clock | None = None) -> dict[str, Any]:
    """Sign with a new key from now on; tokens of the previous keys stay valid `grace_s` more.

    Returns what rotated, the new kid, when, and until when the previous keys verify.
    """
    _check_grace(grace_s)
    now = (clock if clock is not None else WallClock()).now_ns()
    retire = now + round(grace_s * _NS)
    fresh = SigningKey(kid="k-" + secrets.token_hex(6), secret=new_secret(), created_at=now)
    kept: list[SigningKey] = []

    def change(doc: SecretsDoc) -> SecretsDoc:
        kept.clear()
        for key in doc.jwt_keys or static_ring(settings.jwt_secret):
            end = retire if key.retire_at is None else min(key.retire_at, retire)
            if end > now:
                kept.append(replace(key, retire_at=end))
        return replace(doc, jwt_keys=(fresh, *kept))

    update_secrets(settings.resolved_secrets_file, change)
    return {"secret": "jwt", "rotated": True, "kid": fresh.kid, "rotated_at": iso_ns(now),
            "grace_s": grace_s,
            "previous": [{"kid": k.kid, "valid_until": iso_ns(k.retire_at or retire)}
                         for k in kept]}
