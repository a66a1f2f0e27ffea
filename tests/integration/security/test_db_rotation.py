"""PostgreSQL password rotation on a throwaway server with scram authentication (the shared
server trusts every local login, so it could not show a wrong password being refused): two
login roles in turn, writes flowing throughout, the old password refused afterwards."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from tests.pg_server import PgServer, pg_bin

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine, set_login_source
from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, read_secrets, with_login
from mcp_trading.security.db_rotation import DatabaseRotationError, rotate_database
from mcp_trading.security.logins import install_database_login

ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex
OWNER_PASSWORD = "owner-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed; this test "
                    "starts its own server")
    pg = PgServer(password=ADMIN_PASSWORD)
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def settings(server: PgServer, tmp_path: Path) -> Iterator[Settings]:
    """A database owned by a non-superuser, its schema at head, as an operator sets it up."""
    name, owner = f"trading_{uuid.uuid4().hex[:8]}", f"owner_{uuid.uuid4().hex[:8]}"
    roles = f"{owner}_a,{owner}_b"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN PASSWORD '{OWNER_PASSWORD}'")
        admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
    url = f"postgresql://{owner}:{OWNER_PASSWORD}@127.0.0.1:{server.port}/{name}"
    settings = Settings(data_dir=tmp_path, database_url=url, database_admin_url=server.url,
                        database_login_roles=roles, rotation_settle_s=0.6)
    upgrade(settings.resolved_database_url)
    install_database_login(settings)
    yield settings
    set_login_source(None)


def _logs_in(settings: Settings, login: Login) -> bool:
    url = with_login(settings.database_url or "", login)
    try:
        with psycopg.connect(url, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


class _Writes:
    """Inserts a row a round on a checked-out connection each time (pool recycling shows), and
    one on a connection held throughout; every failure is counted."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_store_engine(settings.resolved_database_url)
        with self.engine.begin() as conn:
            conn.execute(text("CREATE TABLE rotation_probe (n integer)"))
        self.held = self.engine.connect()
        self.done = self.failed = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("INSERT INTO rotation_probe VALUES (1)"))
                self.held.execute(text("INSERT INTO rotation_probe VALUES (2)"))
                self.held.commit()
                self.done += 2
            except Exception as exc:  # every failure is what the test counts
                self.failed += 1
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def __enter__(self) -> _Writes:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.held.close()

    def rows(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM rotation_probe")).scalar_one())


@pytest.mark.postgres
def test_writes_flow_through_two_rotations_and_the_old_password_is_refused(
        settings: Settings) -> None:
    first_role, second_role = settings.database_login_roles
    with _Writes(settings) as writes:
        first = rotate_database(settings)
        login1 = read_secrets(settings.resolved_secrets_file).database
        second = rotate_database(settings)
        login2 = read_secrets(settings.resolved_secrets_file).database
        before = writes.done
        writes.stop.wait(0.3)
    assert writes.failed == 0, writes.errors[:3]
    assert writes.done > before > 20
    assert writes.rows() == writes.done  # every write that returned is there
    assert login1 is not None and login2 is not None
    assert (first["login"], second["login"]) == (first_role, second_role)
    assert first["previous_disabled"] is False  # DATABASE_URL's own user is left as it is
    assert second["previous_login"] == first_role and second["previous_disabled"] is True
    assert not _logs_in(settings, login1)  # the first role is disabled, its password gone
    assert _logs_in(settings, login2)
    with writes.engine.connect() as conn:  # new connections are the new login, as the owner
        who = conn.execute(text("SELECT session_user, current_user")).one()
    owner = settings.database_url.split("//")[1].split(":")[0]  # type: ignore[union-attr]
    assert tuple(who) == (second_role, owner)
    text_out = json.dumps([first, second])
    assert login1.password not in text_out and login2.password not in text_out
    writes.engine.dispose()


@pytest.mark.postgres
def test_a_third_rotation_reuses_the_first_role_with_a_new_password(settings: Settings) -> None:
    rotate_database(settings)
    rotate_database(settings)
    old = read_secrets(settings.resolved_secrets_file).database
    third = rotate_database(settings)
    new = read_secrets(settings.resolved_secrets_file).database
    assert old is not None and new is not None
    assert third["login"] == settings.database_login_roles[0] and new.password != old.password
    assert _logs_in(settings, new) and not _logs_in(settings, old)


@pytest.mark.postgres
def test_a_superuser_owner_is_refused_and_nothing_changes(server: PgServer,
                                                          tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=server.url, rotation_settle_s=0)
    with pytest.raises(DatabaseRotationError, match="is a superuser") as err:
        rotate_database(settings)
    assert ADMIN_PASSWORD not in str(err.value)
    assert not settings.resolved_secrets_file.exists()


@pytest.mark.postgres
def test_an_admin_that_cannot_create_roles_changes_nothing(settings: Settings,
                                                           tmp_path: Path) -> None:
    weak = Settings(data_dir=tmp_path, database_url=settings.database_url,
                    database_login_roles=",".join(settings.database_login_roles),
                    rotation_settle_s=0)  # the admin defaults to DATABASE_URL's owner
    with pytest.raises(DatabaseRotationError, match="failed the rotation") as err:
        rotate_database(weak)
    assert OWNER_PASSWORD not in str(err.value)
    assert read_secrets(weak.resolved_secrets_file).database is None
