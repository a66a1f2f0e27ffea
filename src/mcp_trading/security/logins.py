"""The platform's database and Redis logins, read from the secrets file at each new connection.

`install_database_login(settings)` makes every PostgreSQL engine of this process log in with
the secrets file's `database` login (adapters/store/engine.py re-reads it per connection and
recycles pooled connections of a rotated-away login); `redis_credentials(settings)` is the
same for a Redis client. Without a login in the file, the URLs' own credentials are used.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_trading.adapters.store.engine import LoginSource, set_login_source
from mcp_trading.config import Settings

__all__ = ["database_login", "install_database_login", "redis_credentials"]


def database_login(settings: Settings) -> LoginSource:
    """() -> the secrets file's database (user, password) now, or None."""

    def source() -> tuple[str | None, str] | None:
        login = settings.secrets().database
        return None if login is None else (login.user, login.password)

    return source


def install_database_login(settings: Settings) -> None:
    """Every PostgreSQL engine of this process logs in with the secrets file's login."""
    set_login_source(database_login(settings))


def redis_credentials(settings: Settings) -> Callable[[], tuple[str | None, str] | None]:
    """() -> the secrets file's Redis (ACL user, password) now, or None."""

    def source() -> tuple[str | None, str] | None:
        login = settings.secrets().redis
        return None if login is None else (login.user, login.password)

    return source
