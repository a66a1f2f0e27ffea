"""A 401 says why: no credential sent, or the one sent is invalid, expired or revoked."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.security.tokens import TokenIssuer
from mcp_trading.services.orders import rest as orders
from mcp_trading.services.trading_engine import rest as trading_engine

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[Platform, KeyStore]]:
    """An opened platform whose authenticator is the real one over its own key store."""
    settings = Settings(data_dir=tmp_path, profile="production", jwt_secret=secrets.token_urlsafe(48))
    plat = bootstrap(settings)
    plat.open()
    engine = create_store_engine(settings.resolved_database_url)
    keys = KeyStore(engine, hasher=CHEAP, ttl=0.0)
    plat.authenticator = Authenticator(keys, TokenIssuer(settings.jwt_secret), "production")
    plat.accepting = True
    try:
        yield plat, keys
    finally:
        plat.accepting = False
        if plat.runtime is not None:
            plat.runtime.close()
        engine.dispose()


def _message(response: Any) -> str:
    assert response.status_code == 401, response.text
    return str(response.json()["message"])


@pytest.mark.parametrize(("service", "path"), [
    ("trading-engine", "/account"), ("trading-engine", "/orders/no-such-order"),  # the fast path
    ("orders", "/orders")])
def test_a_bogus_or_revoked_key_is_named_invalid_never_echoed(keyed: tuple[Platform, KeyStore],
                                                              service: str, path: str) -> None:
    platform, keys = keyed
    app = (trading_engine.build(platform, failing_checks=list) if service == "trading-engine"
           else orders.build(platform))
    client = TestClient(app)
    assert "a credential is required" in _message(client.get(path))
    bogus = "mcpt_AAAAAAAAAAAA_not-a-real-secret"
    said = _message(client.get(path, headers={"Authorization": f"Bearer {bogus}"}))
    assert "invalid, expired or revoked" in said and bogus not in said
    record, secret = keys.create(Role.VIEWER, "paper", "newcomer")
    good = {"Authorization": f"Bearer {secret}"}
    assert client.get(path, headers=good).status_code in (200, 404)  # past authentication
    keys.revoke(record.id)
    revoked = _message(client.get(path, headers=good))
    assert "invalid, expired or revoked" in revoked and secret not in revoked
    assert "a credential is required" in _message(client.get(path))  # not sticky
