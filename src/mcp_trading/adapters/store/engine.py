"""SQLAlchemy engines for the store: URL normalisation and per-connection SQLite settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

__all__ = ["LoginSource", "create_store_engine", "normalize_url", "set_login_source"]

#: () -> the (user, password) PostgreSQL connections should log in with now, or None (the URL's)
LoginSource = Callable[[], tuple[str | None, str] | None]
_LOGIN: list[LoginSource | None] = [None]  # this process's source (one slot, no `global`)


def set_login_source(source: LoginSource | None) -> None:
    """Where this process's PostgreSQL engines take their login, read at each new connection.

    The platform installs the secrets file's database login (security/db_rotation.py), so a
    rotated password is used by the next connection without a restart, and a pooled
    connection of the previous login is replaced at its next checkout (the pool recycle of a
    rotation). None: every engine logs in with its URL's user and password.
    """
    _LOGIN[0] = source

_BUSY_TIMEOUT_MS = 10_000
_CONNECT_TIMEOUT_S = 10


def normalize_url(database_url: str) -> URL:
    """Parse a database URL, mapping plain `postgresql://` to the psycopg 3 driver."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            f"{database_url!r} is an in-memory SQLite database, which every connection sees "
            "empty; use a file URL (sqlite:///path/to/db) or `memory://` for the in-memory store"
        )
    return url


def create_store_engine(database_url: str | URL) -> Engine:
    """An engine for the store; SQLite connections get WAL, synchronous=FULL and real BEGINs.

    Server databases get pre-pinged pooled connections, so the store survives a restart.
    """
    url = normalize_url(database_url) if isinstance(database_url, str) else database_url
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # A server restart leaves every pooled connection dead: pre-ping swaps a dead one for a new
    # one at checkout instead of failing the call. A connect timeout (unless the URL sets one)
    # bounds each reconnect attempt while the server is unreachable.
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if url.get_backend_name() == "postgresql":
        event.listen(engine, "do_connect", _pg_login)
        event.listen(engine, "checkout", _pg_recycle_rotated)
    return engine


def _pg_login(_dialect: Any, record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    source = _LOGIN[0]
    login = source() if source is not None else None
    if login is not None:
        user, password = login
        if user:
            cparams["user"] = user
        cparams["password"] = password
    record.info["login_user"] = cparams.get("user")


def _pg_recycle_rotated(_dbapi: Any, record: Any, _proxy: Any) -> None:
    # A pooled connection of a login rotated away is replaced before use (the pool retries the
    # checkout with a new connection). Its session would still work (the server checks a
    # password only at login); recycling moves the pool to the new login, so the old one's
    # sessions die out. One cached read of the secrets file: ~1 µs.
    source = _LOGIN[0]
    login = source() if source is not None else None
    if login is not None and login[0] and record.info.get("login_user") != login[0]:
        raise exc.DisconnectionError("the database login was rotated; reconnecting")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Durability: WAL plus synchronous=FULL fsyncs the log on every commit, so an append
    # that returned survives power loss. synchronous is per connection, hence this hook.
    # isolation_level=None stops sqlite3's implicit BEGIN (which skips DDL and SELECT);
    # `_sqlite_on_begin` emits a real BEGIN instead, making migrations transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
