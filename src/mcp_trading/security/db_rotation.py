"""PostgreSQL password rotation without an outage: two login roles used in turn.

The platform logs in as one of `database_login_roles` (A, B), named with its password in the
secrets file; both are members of the role owning the tables (`database_owner_role`) and act
as it (`ALTER ROLE … SET role`), so either sees and creates the same objects. A rotation::

    A in use, B disabled
      ──B: new password, LOGIN──▶ a test login as B succeeds
      ──secrets file names B──▶ (settle: every process re-reads the file; new connections
                                 log in as B, pooled A connections are recycled at checkout)
      ──A: NOLOGIN, PASSWORD NULL──▶ B in use, A disabled

PostgreSQL checks a password only at login, so A's sessions still open keep working to their
end; what the rotation guarantees is that no process opens a connection with a password the
server no longer accepts (engines take the login from the file at each connect,
adapters/store/engine.py). The first rotation moves the platform off DATABASE_URL's own user,
which it leaves as it is (it is usually the owner, and may be the admin).

The password goes to the server only as a SCRAM verifier computed here (libpq's
PQencryptPasswordConn), never in a statement's text, so no server log can show it.

A failure before the file is written disables B again: A stays the only login. A failure after
it leaves both able to log in: run the rotation again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from mcp_trading.adapters.bus.connection import redact_url
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, update_secrets, with_login
from mcp_trading.domain.errors import TradingError
from mcp_trading.security.rotation import iso_ns, new_secret

__all__ = ["DatabaseRotationError", "rotate_database"]


class DatabaseRotationError(TradingError, RuntimeError):
    """The database login could not be rotated; the message says what is in force and what to do."""


def _libpq(url: str) -> str:
    """A libpq URI (psycopg takes `postgresql://`, not SQLAlchemy's `postgresql+psycopg://`)."""
    scheme, sep, rest = url.partition("://")
    return ("postgresql" if scheme.startswith("postgres") else scheme) + sep + rest


def _url_user(url: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).username or "") or None


def _can_login(url: str, login: Login) -> bool:
    try:
        with psycopg.connect(_libpq(with_login(url, login)), connect_timeout=10) as conn:
            row = conn.execute("SELECT session_user").fetchone()
            return row is not None and row[0] == login.user
    except psycopg.OperationalError:
        return False


def _prepare(admin: psycopg.Connection[Any], role: str, owner: str, password: str) -> None:
    """`role` may log in with `password` and acts as `owner`."""
    found = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (owner,)).fetchone()
    if found is None:
        raise DatabaseRotationError(f"the owner role {owner!r} does not exist; set "
                                    "MCP_TRADING_DATABASE_OWNER_ROLE to the role owning the "
                                    "platform's tables")
    if found[0]:
        raise DatabaseRotationError(
            f"the owner role {owner!r} is a superuser: a login acting as it would be one too. "
            "Give the platform's tables a non-superuser owner (ALTER ... OWNER TO) and set "
            "MCP_TRADING_DATABASE_OWNER_ROLE to it")
    verifier = admin.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    ident, owner_ident = sql.Identifier(role), sql.Identifier(owner)
    if exists is None:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            ident, sql.Literal(verifier.decode())))
    else:
        admin.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
            ident, sql.Literal(verifier.decode())))
    admin.execute(sql.SQL("GRANT {} TO {}").format(owner_ident, ident))
    admin.execute(sql.SQL("ALTER ROLE {} SET role = {}").format(ident, sql.Literal(owner)))


def _disable(admin: psycopg.Connection[Any], role: str) -> None:
    admin.execute(sql.SQL("ALTER ROLE {} NOLOGIN PASSWORD NULL").format(sql.Identifier(role)))


def _sessions(admin: psycopg.Connection[Any], role: str) -> int:
    row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                        "AND pid <> pg_backend_pid()", (role,)).fetchone()
    return int(row[0]) if row is not None else 0


def rotate_database(settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                    ) -> dict[str, Any]:
    """Switch the platform to its idle login role with a new password, then disable the other.

    Returns what rotated and when (role names, never a password)."""
    base = settings.database_url
    if not base or not base.startswith(("postgresql", "postgres:")):
        raise DatabaseRotationError("the database is not PostgreSQL (embedded SQLite has no "
                                    "password); set DATABASE_URL to rotate the database login")
    admin_url = settings.database_admin_url or base
    owner = settings.database_owner_role or _url_user(base)
    if owner is None:
        raise DatabaseRotationError("DATABASE_URL names no user; set "
                                    "MCP_TRADING_DATABASE_OWNER_ROLE to the role owning the tables")
    current = settings.secrets(force=True).database
    first, second = settings.database_login_roles
    target = second if current is not None and current.user == first else first
    previous = current.user if current is not None and current.user else _url_user(base)
    fresh = Login(target, new_secret())
    now = WallClock().now_ns()
    try:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=10) as admin:
            return _rotate(settings, admin, base=base, owner=owner, fresh=fresh,
                           previous=previous, sleep=sleep, now=now)
    except psycopg.Error as exc:
        raise DatabaseRotationError(
            f"PostgreSQL at {redact_url(admin_url)} failed the rotation "
            f"({type(exc).__name__}: {exc.diag.message_primary or 'no detail'}); the secrets "
            "file names the login in force. Check MCP_TRADING_DATABASE_ADMIN_URL (a role "
            "that may create and alter roles)") from None


def _rotate(settings: Settings, admin: psycopg.Connection[Any], *, base: str, owner: str,
            fresh: Login, previous: str | None, sleep: Callable[[float], None],
            now: int) -> dict[str, Any]:
    target = fresh.user or ""
    _prepare(admin, target, owner, fresh.password)
    if not _can_login(base, fresh):
        _disable(admin, target)
        raise DatabaseRotationError(f"a test login as {target!r} with its new password failed "
                                    "(check pg_hba.conf allows it); disabled it again, the "
                                    "login in force is unchanged")
    update_secrets(settings.resolved_secrets_file, lambda d: replace(d, database=fresh))
    sleep(settings.rotation_settle_s)  # every process re-reads the file meanwhile
    left = _sessions(admin, previous) if previous else 0
    disabled = previous in settings.database_login_roles and previous != target
    if disabled and previous:
        _disable(admin, previous)
    return {"secret": "database", "rotated": True, "login": target, "rotated_at": iso_ns(now),
            "previous_login": previous, "previous_disabled": disabled,
            "previous_sessions_open": left}
