"""API key rotation: a new secret under the same id, the old one accepted until the grace ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.clocks import ManualClock
from mcp_trading.security.keys import KeyStore, RevokedKeyError, UnknownKeyError
from mcp_trading.security.principal import Role

NS = 1_000_000_000
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _store(engine: Engine, clock: ManualClock) -> KeyStore:
    return KeyStore(engine, hasher=CHEAP, ttl=2.0, clock=clock)


def test_both_secrets_work_during_the_grace_then_only_the_new_one(
        engine: Engine, clock: ManualClock) -> None:
    keys = _store(engine, clock)
    record, old = keys.create(Role.TRADER, "paper")
    assert keys.verify(old) is not None  # cached as accepted before the rotation
    rotated, new, until = keys.rotate(record.id, grace_s=60)
    assert rotated.id == record.id and new != old
    assert new.startswith(f"mcpt_{record.id}_")
    assert until == clock.now_ns() + 60 * NS
    other = _store(engine, clock)  # another process, which never saw the old secret
    for store in (keys, other):
        assert store.verify(new) is not None
        assert store.verify(old) is not None
    clock.advance(60 * NS)
    for store in (keys, other):
        assert store.verify(old) is None
        assert store.verify(new) is not None
    principal = keys.verify(new)
    assert principal is not None and (principal.role, principal.account_id) == (Role.TRADER,
                                                                               "paper")


def test_grace_zero_refuses_the_old_secret_at_once_even_where_it_was_cached(
        engine: Engine, clock: ManualClock) -> None:
    keys = _store(engine, clock)
    record, old = keys.create(Role.VIEWER, all_accounts=True)
    assert keys.verify(old) is not None
    _, new, until = keys.rotate(record.id, grace_s=0)
    assert until is None
    clock.advance(2 * NS)  # the cached row's TTL: other processes re-read it by then
    assert keys.verify(old) is None
    assert keys.verify(new) is not None


def test_a_second_rotation_ends_the_first_ones_grace(engine: Engine, clock: ManualClock) -> None:
    keys = _store(engine, clock)
    record, first = keys.create(Role.TRADER, "paper")
    _, second, _ = keys.rotate(record.id, grace_s=3600)
    _, third, _ = keys.rotate(record.id, grace_s=3600)
    clock.advance(2 * NS)
    assert keys.verify(first) is None
    assert keys.verify(second) is not None
    assert keys.verify(third) is not None


def test_unknown_and_revoked_keys_cannot_be_rotated(engine: Engine, clock: ManualClock) -> None:
    keys = _store(engine, clock)
    with pytest.raises(UnknownKeyError):
        keys.rotate("NoSuchKey123", grace_s=60)
    record, plaintext = keys.create(Role.TRADER, "paper")
    keys.revoke(record.id)
    with pytest.raises(RevokedKeyError, match="cannot be rotated"):
        keys.rotate(record.id, grace_s=60)
    with pytest.raises(ValueError, match="finite number"):
        keys.rotate(record.id, grace_s=-1)
    assert keys.verify(plaintext) is None


def test_revoking_a_rotated_key_ends_both_secrets(engine: Engine, clock: ManualClock) -> None:
    keys = _store(engine, clock)
    record, old = keys.create(Role.TRADER, "paper")
    _, new, _ = keys.rotate(record.id, grace_s=3600)
    keys.revoke(record.id)
    assert keys.verify(old) is None
    assert keys.verify(new) is None
