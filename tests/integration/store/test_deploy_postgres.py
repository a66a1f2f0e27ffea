"""deploy/postgres/create_database.sql, as the install notes run it, on a throwaway server with
password (scram) logins: the runbook's names (`trading_user` owning `trading_platform`) are
created, the platform's schema goes in as that role, and the runbook's own psql and pg_dump
lines work as written; without the password nothing is created."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.pg_server import PgServer, pg_bin

from mcp_trading.adapters.store.migrate import current_revision, head_revision, upgrade

SQL = Path(__file__).resolve().parents[3] / "deploy" / "postgres" / "create_database.sql"
ADMIN = "admin-" + uuid.uuid4().hex
USER_PASSWORD = "user-" + uuid.uuid4().hex


@pytest.fixture
def server() -> Iterator[PgServer]:
    if pg_bin() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL's server binaries and psql are needed; this test starts its own "
                    "server")
    pg = PgServer(password=ADMIN)
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def _psql(pg: PgServer, user: str, password: str, *args: str
          ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGPASSWORD": password}
    return subprocess.run([str(shutil.which("psql")), "-h", "127.0.0.1", "-p", str(pg.port),
                           "-U", user, "-v", "ON_ERROR_STOP=1", *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_the_install_sql_creates_the_runbooks_names(server: PgServer) -> None:
    made = _psql(server, "postgres", ADMIN, "-d", "postgres",
                 "-v", f"password={USER_PASSWORD}", "-f", str(SQL))
    assert made.returncode == 0, made.stderr
    url = f"postgresql://trading_user:{USER_PASSWORD}@127.0.0.1:{server.port}/trading_platform"
    upgrade(url)  # `mcp-trading db upgrade` as the platform's own role
    assert current_revision(url) == head_revision()
    # the runbook's checks, as written (with the host's port)
    one = _psql(server, "trading_user", USER_PASSWORD, "-d", "trading_platform", "-c",
                "SELECT 1")
    assert one.returncode == 0 and "1 row" in one.stdout, one.stderr
    active = _psql(server, "trading_user", USER_PASSWORD, "-d", "trading_platform", "-tA", "-c",
                   "SELECT count(*) FROM pg_stat_activity;")
    assert active.returncode == 0 and int(active.stdout.strip()) >= 1, active.stderr
    wrong = _psql(server, "trading_user", "not-the-password", "-d", "trading_platform", "-c",
                  "SELECT 1")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    with psycopg.connect(server.url, autocommit=True) as admin:
        role = admin.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                             "WHERE rolname = 'trading_user'").fetchone()
        owner = admin.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                              "WHERE datname = 'trading_platform'").fetchone()
    assert role == (False, False, False)  # least privilege: owns its database, nothing more
    assert owner == ("trading_user",)
    dump = shutil.which("pg_dump")  # the runbook's backup line
    if dump is not None:
        out = subprocess.run([dump, "-h", "127.0.0.1", "-p", str(server.port), "-U",
                              "trading_user", "trading_platform"],
                             env={**os.environ, "PGPASSWORD": USER_PASSWORD},
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "CREATE TABLE public.journal" in out.stdout


def test_without_a_password_nothing_is_created(server: PgServer) -> None:
    made = _psql(server, "postgres", ADMIN, "-d", "postgres", "-f", str(SQL))
    assert made.returncode != 0
    with psycopg.connect(server.url, autocommit=True) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'trading_user'"
                             ).fetchone() is None
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = 'trading_platform'"
                             ).fetchone() is None
