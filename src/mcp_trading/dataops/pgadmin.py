"""PostgreSQL databases as units: create a scratch one, drop it, swap two by renaming."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = ["create_database", "database_exists", "database_of", "drop_database", "drop_scratch",
           "libpq_url", "swap_databases", "with_database"]


def libpq_url(url: str) -> str:
    """The store's SQLAlchemy URL as psycopg (libpq) takes it: the same server, login and
    database, no driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str) -> str:
    """A libpq URL of the server's maintenance database `postgres`."""
    parsed = make_url(url).set(drivername="postgresql", database="postgres", query={})
    return parsed.render_as_string(hide_password=False)


def database_of(url: str) -> str:
    return make_url(url).database or "postgres"


def with_database(url: str, database: str) -> str:
    """The same URL naming another database (the SQLAlchemy form the store opens)."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def create_database(url: str, database: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_database(url: str, database: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database)))


def swap_databases(url: str, current: str, replacement: str, rollback: str) -> None:
    """current -> rollback and replacement -> current in one transaction (both or neither);
    the connections to `current` are ended first (the platform is stopped by then)."""
    with psycopg.connect(_admin(url), connect_timeout=10) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (current,))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(current), sql.Identifier(rollback)))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(replacement), sql.Identifier(current)))
        conn.commit()


def drop_scratch(url: str) -> list[str]:
    """Drop the scratch databases a killed backup or restore left (<db>_verify_*,
    <db>_restore_*) that nobody is connected to; never a rollback copy. Call under the
    backup lock."""
    base = database_of(url).replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    with psycopg.connect(_admin(url), autocommit=True, connect_timeout=10) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database d WHERE (datname LIKE %s OR datname LIKE %s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
            (f"{base}\\_verify\\_%", f"{base}\\_restore\\_%")).fetchall()]
    for name in names:
        drop_database(url, name)
    return names


def database_exists(url: str, database: str) -> bool:
    with psycopg.connect(_admin(url), autocommit=True, connect_timeout=10) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (database,)).fetchone() is not None
