"""`mcp-trading cache clear`, driven as an operator would, against the real Redis (db 15)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import redis
from typer.testing import CliRunner

from mcp_trading.adapters.cache import CACHE_PREFIX
from mcp_trading.cli import app
from mcp_trading.cli.cache import DEFAULT_PREFIX

runner = CliRunner()
CLOSED_PORT_WITH_PASSWORD = "redis://:s3cret@127.0.0.1:1/15"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _no_redis_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # redis_url (session scope) has read REDIS_URL already; the command sees only what a test passes
    for name in ("REDIS_URL", "MCP_TRADING_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A key prefix no other test (or run) uses; whatever a test leaves under it is removed."""
    prefix = f"mcp-trading-test:{uuid.uuid4().hex[:12]}:cache:"
    try:
        yield prefix
    finally:
        leftovers = list(client.scan_iter(match=prefix + "*"))
        if leftovers:
            client.unlink(*leftovers)


@pytest.fixture
def foreign_key(client: redis.Redis, prefix: str) -> Iterator[str]:
    """A key beside the cache that shares its prefix's stem but not the prefix itself."""
    key = prefix.removesuffix("cache:") + "bus:stream"
    client.set(key, b"not a cache entry")
    try:
        yield key
    finally:
        client.unlink(key)


def _clear(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["cache", "clear", *args])
    return result.exit_code, result.output


def test_clear_deletes_only_keys_under_the_prefix(client: redis.Redis, redis_url: str, prefix: str,
                                                  foreign_key: str) -> None:
    for i in range(3):
        client.set(f"{prefix}quote:{i}", b"x")

    code, out = _clear("--prefix", prefix, "--yes", "--redis-url", redis_url)

    assert code == 0, out
    assert "deleted 3 keys" in out
    assert list(client.scan_iter(match=prefix + "*")) == []
    assert client.get(foreign_key) == b"not a cache entry"


def test_clear_as_json_reports_the_count_prefix_and_redacted_server(
        client: redis.Redis, redis_url: str, prefix: str) -> None:
    client.set(prefix + "only", b"x")

    code, out = _clear("--prefix", prefix, "--yes", "--json", "--redis-url", redis_url)

    assert code == 0, out
    assert json.loads(out) == {"deleted": 1, "prefix": prefix, "redis": redis_url}
    code, out = _clear("--prefix", prefix, "--yes", "--json", "--redis-url", redis_url)
    assert code == 0 and json.loads(out)["deleted"] == 0


def test_clear_reads_the_url_from_redis_url(monkeypatch: pytest.MonkeyPatch, client: redis.Redis,
                                            redis_url: str, prefix: str) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    client.set(prefix + "k", b"x")

    code, out = _clear("--prefix", prefix, "--yes", "--json")

    assert code == 0, out
    assert json.loads(out)["deleted"] == 1


def test_clear_asks_first_and_a_no_deletes_nothing(client: redis.Redis, redis_url: str,
                                                   prefix: str) -> None:
    client.set(prefix + "k", b"x")

    result = runner.invoke(app, ["cache", "clear", "--prefix", prefix, "--redis-url", redis_url],
                           input="n\n")

    assert result.exit_code == 1, result.output
    assert f"Delete every key under {prefix!r} on {redis_url}?" in result.output
    assert "nothing deleted" in result.output
    assert client.get(prefix + "k") == b"x"

    result = runner.invoke(app, ["cache", "clear", "--prefix", prefix, "--redis-url", redis_url],
                           input="y\n")
    assert result.exit_code == 0 and "deleted 1 key " in result.output
    assert client.get(prefix + "k") is None


def test_unreachable_redis_exits_1_without_the_password() -> None:
    result = runner.invoke(app, ["cache", "clear", "--yes", "--redis-url", CLOSED_PORT_WITH_PASSWORD])

    assert result.exit_code == 1, result.output
    assert "s3cret" not in result.output
    assert "unreachable" in result.output and "127.0.0.1:1" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


def test_no_url_exits_2_explaining_the_embedded_mode() -> None:
    code, out = _clear("--yes")

    assert code == 2, out
    assert "REDIS_URL" in out and "in memory" in " ".join(out.split())


def test_an_empty_prefix_is_refused(redis_url: str) -> None:
    code, out = _clear("--prefix", "", "--yes", "--redis-url", redis_url)

    assert code == 2 and "whole database" in " ".join(out.split())


def test_the_default_prefix_is_the_cache_prefix() -> None:
    assert DEFAULT_PREFIX == CACHE_PREFIX


def test_the_cli_starts_without_loading_redis() -> None:
    probe = "import sys, mcp_trading.cli; print('redis' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "False"
