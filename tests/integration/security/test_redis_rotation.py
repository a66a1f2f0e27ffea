"""Redis password rotation on a throwaway redis-server: the platform's ACL user, both passwords
during the switch, then only the new one; the bus keeps working through it on new connections."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tests.redis_server import Server

from mcp_trading.adapters.bus import RedisBus, RedisOptions
from mcp_trading.config import Settings
from mcp_trading.config_secrets import read_secrets
from mcp_trading.security.logins import redis_credentials
from mcp_trading.security.redis_rotation import RedisRotationError, rotate_redis

PREFIX = "rot-test:"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; this test starts its own server")
    started = Server(tmp_path)
    started.start()
    yield started
    started.stop()


@pytest.fixture
def settings(tmp_path: Path, server: Server) -> Settings:
    return Settings(data_dir=tmp_path / "data", redis_url=server.url, redis_prefix=PREFIX,
                    rotation_settle_s=0.6)


class _Traffic:
    """Publishes on the bus from a fresh connection each round (so each round logs in with the
    login the secrets file names now) and on one long-lived connection; counts what failed."""

    def __init__(self, settings: Settings) -> None:
        self.options = RedisOptions(credentials=redis_credentials(settings), retries=0)
        self.url = settings.redis_url or ""
        self.long = RedisBus(self.url, prefix=PREFIX, options=self.options)
        self.sent = self.failed = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            fresh = RedisBus(self.url, prefix=PREFIX, options=self.options)
            try:
                fresh.publish("orders", [b"o"])
                self.long.publish("orders", [b"o"])
                self.sent += 2
            except Exception as exc:
                self.failed += 1
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                fresh.close()

    def __enter__(self) -> _Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.long.close()


def _logs_in(server: Server, user: str, password: str) -> bool:
    client = redis.Redis(port=server.port, username=user, password=password)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


@pytest.mark.redis
def test_the_bus_keeps_publishing_through_two_rotations_and_the_old_password_dies(
        settings: Settings, server: Server) -> None:
    with _Traffic(settings) as traffic:
        first = rotate_redis(settings)
        login1 = read_secrets(settings.resolved_secrets_file).redis
        second = rotate_redis(settings)
        login2 = read_secrets(settings.resolved_secrets_file).redis
        done = traffic.sent
        traffic.stop.wait(0.2)
    assert traffic.failed == 0, traffic.errors[:3]
    assert traffic.sent > done > 20  # traffic ran during and after the rotations
    assert login1 is not None and login2 is not None
    assert first["created_user"] is True and second["created_user"] is False
    assert second["old_password_refused"] is True
    assert login1.user == login2.user == "mcp-trading"
    assert not _logs_in(server, "mcp-trading", login1.password)
    assert _logs_in(server, "mcp-trading", login2.password)
    text = json.dumps([first, second])
    assert login1.password not in text and login2.password not in text


@pytest.mark.redis
def test_the_acl_user_reaches_only_the_platforms_keys(settings: Settings, server: Server) -> None:
    rotate_redis(settings)
    login = read_secrets(settings.resolved_secrets_file).redis
    assert login is not None
    bus = RedisBus(settings.redis_url or "", prefix=PREFIX,
                   options=RedisOptions(credentials=redis_credentials(settings)))
    bus.publish("events", [b"x"])
    bus.ensure_group("events", "g")
    assert [e.payload for e in bus.read_group("events", "g", "c", block_ms=0)] == [b"x"]
    bus.publish_latest("quotes", "AAPL", b"100")
    assert bus.latest("quotes") == {"AAPL": b"100"}
    bus.close()
    client = redis.Redis(port=server.port, username=login.user, password=login.password)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.get("someone-else:key")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.flushall()
    client.close()


@pytest.mark.redis
def test_without_admin_rights_nothing_changes(settings: Settings, server: Server,
                                              tmp_path: Path) -> None:
    rotate_redis(settings)
    login = read_secrets(settings.resolved_secrets_file).redis
    assert login is not None
    weak = Settings(data_dir=tmp_path / "data", redis_url=server.url, redis_prefix=PREFIX,
                    redis_admin_url=f"redis://{login.user}:{login.password}@127.0.0.1:"
                                    f"{server.port}/0", rotation_settle_s=0)
    with pytest.raises(RedisRotationError, match="refused ACL SETUSER") as err:
        rotate_redis(weak)
    assert login.password not in str(err.value)
    assert read_secrets(settings.resolved_secrets_file).redis == login
    assert _logs_in(server, login.user or "", login.password)
