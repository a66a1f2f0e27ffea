"""Fixtures shared by every test tree: external services (PostgreSQL, later Redis).

An external service that is down skips its tests on a laptop, but under CI=true the tests
fail: CI must never pass by silently skipping the real backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

# the suite-wide secret scan (responses and log records): tests/secret_scan.py
from tests.secret_scan import secret_scan, secret_scan_session  # noqa: F401

# platforms built inside the test process project on a thread, not a child process each
# (end-to-end tests start the real platform with its default, the child process)
os.environ.setdefault("MCP_TRADING_PROJECTION", "thread")
# The suite predates the shipped default risk limits (config_limits.py: a 10 % price collar,
# max order notional and quantity, 1,000 orders/s per account), and its tests of listings,
# recovery, replaces, benchmarks-like bursts... place far-off limit prices and big orders on
# purpose: they run with the defaults off, here and in the platforms they start. The
# defaults themselves are tested with the shipped values passed explicitly
# (tests/integration/platform/test_default_limits.py); export a value to run any test with it.
for _limit in ("PRICE_COLLAR_PCT", "MAX_ORDER_NOTIONAL", "MAX_ORDER_QTY", "MAX_ORDERS_PER_SECOND"):
    os.environ.setdefault(f"MCP_TRADING_DEFAULT_{_limit}", "none")

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def redact(url: str) -> str:
    """The URL with any password replaced, fit for a skip message or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def require_service(name: str, check: Callable[[], object], *, where: str, setting: str) -> None:
    """Run `check`; if it raises, skip the test (or fail it under CI=true) saying why."""
    try:
        check()
    except Exception as exc:
        reason = " ".join(str(exc).split())
        message = (f"{name} not reachable at {redact(where)} ({type(exc).__name__}: {reason}); "
                   f"set {setting} or run under CI=true to require it")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this test session and dropped at its end."""
    import psycopg
    from psycopg import sql

    def plain(url: str) -> str:  # psycopg wants no SQLAlchemy driver suffix
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    admin = plain(_with_database(TEST_DATABASE_URL, "postgres"))

    def ping() -> None:
        with psycopg.connect(admin, connect_timeout=3) as conn:
            conn.execute("SELECT 1")

    require_service("PostgreSQL", ping, where=TEST_DATABASE_URL, setting="TEST_DATABASE_URL")
    name = f"mcp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(TEST_DATABASE_URL, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections see only a fresh schema of the session database (per test)."""
    import psycopg
    from psycopg import sql

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server for tests: REDIS_URL, or db 15 on 127.0.0.1; tests keep to their own prefix."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

    def ping() -> None:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                      retry=Retry(NoBackoff(), 0))
        try:
            client.ping()
        finally:
            client.close()

    require_service("Redis", ping, where=url, setting="REDIS_URL")
    return url
