"""Redis password rotation without an outage: one ACL user holding both passwords meanwhile.

States of the platform's ACL user (`redis_acl_user`) through a rotation::

    >old only ──ACL SETUSER on >new──▶ >old >new ──secrets file: new──▶ (settle) ──<old──▶ >new only

Redis checks a password only when a connection authenticates, so connections already open
keep working throughout; every new connection asks the secrets file (processes re-read it
within 0.5 s, `rotation_settle_s` waits longer), so none presents the old password after it
is removed. The first rotation creates the user: keys and channels under `redis_prefix`, every
command but the admin and dangerous ones. It needs an admin login (`redis_admin_url`, default
REDIS_URL as configured). Where Redis keeps its users in an ACL file the change is saved
there (ACL SAVE); otherwise the report says `"saved": "memory"`: the user lives until Redis
restarts (configure `aclfile`, or the platform cannot log in after a Redis restart).

A failure before the file is written removes the new password again: the old login stays
the only one. A failure after it leaves both passwords valid: run the rotation again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import redis

from mcp_trading.adapters.bus.connection import redact_url
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, update_secrets, with_login
from mcp_trading.domain.errors import TradingError
from mcp_trading.security.rotation import iso_ns, new_secret

__all__ = ["RedisRotationError", "rotate_redis"]

_CATEGORIES = ("+@all", "-@admin", "-@dangerous")


class RedisRotationError(TradingError, RuntimeError):
    """The Redis login could not be rotated; the message says what is in force and what to do."""


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _can_login(url: str, login: Login) -> bool:
    client = _client(with_login(url, login))
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


def _persist(admin: redis.Redis) -> str:
    """Where the ACL change was saved: "aclfile", or "memory" (until Redis restarts)."""
    try:
        found: Any = admin.config_get("aclfile")
        if found.get("aclfile"):
            admin.acl_save()
            return "aclfile"
    except redis.ResponseError:
        pass
    return "memory"


def _grant(admin: redis.Redis, user: str, password: str, prefix: str, *, first: bool) -> None:
    if first:  # a fresh user: its keys, channels and commands, then the password
        admin.acl_setuser(user, enabled=True, reset=True, passwords=[f"+{password}"],
                          keys=[f"{prefix}*"], channels=[f"{prefix}*"], categories=_CATEGORIES)
    else:
        admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"])


def _forget(admin: redis.Redis, user: str, password: str) -> None:
    admin.acl_setuser(user, enabled=True, passwords=[f"-{password}"])


def rotate_redis(settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 ) -> dict[str, Any]:
    """Give the platform's Redis ACL user a new password; the old one works until every process
    has switched. Returns what rotated and when (never a password)."""
    base = settings.redis_url
    if not base or not base.startswith(("redis://", "rediss://")):
        raise RedisRotationError("REDIS_URL is not a redis:// URL (embedded mode has no Redis "
                                 "password); set REDIS_URL to rotate the Redis login")
    admin_url = settings.redis_admin_url or base
    current = settings.secrets(force=True).redis
    user = current.user if current is not None and current.user else settings.redis_acl_user
    fresh = Login(user, new_secret())
    now = WallClock().now_ns()
    admin = _client(admin_url)
    try:
        return _rotate(settings, admin, admin_url=admin_url, current=current, fresh=fresh,
                       sleep=sleep, now=now)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RedisRotationError(f"Redis at {redact_url(admin_url)} is unreachable "
                                 f"({type(exc).__name__}); nothing more was changed, run the "
                                 "rotation again when it is back") from None
    finally:
        admin.close()


def _rotate(settings: Settings, admin: redis.Redis, *, admin_url: str, current: Login | None,
            fresh: Login, sleep: Callable[[float], None], now: int) -> dict[str, Any]:
    base, user = settings.redis_url or "", fresh.user or settings.redis_acl_user
    try:
        _grant(admin, user, fresh.password, settings.redis_prefix, first=current is None)
    except redis.ResponseError as exc:  # not an admin, or a Redis without ACLs (< 6.2)
        raise RedisRotationError(
            f"Redis at {redact_url(admin_url)} refused ACL SETUSER ({type(exc).__name__}); "
            "the login in force is unchanged. Set MCP_TRADING_REDIS_ADMIN_URL to an admin "
            "login") from None
    if not _can_login(base, fresh):
        _forget(admin, user, fresh.password)
        raise RedisRotationError(f"the new password of {user!r} did not log in; removed it "
                                 "again, the login in force is unchanged")
    update_secrets(settings.resolved_secrets_file, lambda d: replace(d, redis=fresh))
    sleep(settings.rotation_settle_s)  # every process re-reads the file meanwhile
    if current is not None and current.password != fresh.password:
        _forget(admin, user, current.password)
    saved = _persist(admin)
    old_refused = None if current is None else not _can_login(base, current)
    return {"secret": "redis", "rotated": True, "user": user, "rotated_at": iso_ns(now),
            "created_user": current is None, "old_password_refused": old_refused,
            "saved": saved}
