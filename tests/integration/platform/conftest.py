"""Fixtures for the service faces' API tests: a real Platform over a temporary data directory.

The platform is opened (migrations, recovery, journal) but not started: no feed, no
background tasks. Tests feed quotes themselves and authenticate with a fake authenticator
that maps `Authorization: Bearer <role>[@<account>]` to a Principal of that role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import Order, OrderRequest
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role


class FakeAuthenticator:
    """`Bearer viewer|trader|operator|admin`, optionally `@account` for an account-bound key."""

    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        if not authorization_header:
            return None
        scheme, _, token = authorization_header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        role_name, _, account = token.strip().partition("@")
        try:
            role = Role.parse(role_name)
        except ValueError:
            return None
        return Principal(role, key_id=f"test-{role.label}", account_id=account or None,
                         name=role.label)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    """An opened platform accepting commands, with the fake authenticator."""
    plat = bootstrap(Settings(data_dir=tmp_path), authenticator=FakeAuthenticator())
    plat.open()
    plat.accepting = True
    try:
        yield plat
    finally:
        plat.accepting = False
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """Headers for a role: auth("operator"), auth("trader@acct")."""
    return lambda role: {"Authorization": f"Bearer {role}"}


FeedQuote = Callable[..., Quote]


@pytest.fixture
def feed_quote(platform: Platform) -> FeedQuote:
    """Feed one quote to the kernel, stamped now, and mark the feed as streaming."""

    def feed(symbol: str = "AAPL", bid: str = "100.00", ask: str = "100.02", *,
             last: str | None = None, size: int = 10_000) -> Quote:
        quote = Quote(symbol, Decimal(bid), Decimal(ask), Decimal(size), Decimal(size),
                      None if last is None else Decimal(last), time.time_ns())
        platform.kernel_runtime.kernel.on_quote(quote)
        platform.last_quote_ns = quote.ts
        platform.health.feed_status = "streaming"
        platform.kernel_runtime.journal.flush()
        return quote

    return feed


PlaceOrder = Callable[..., Order]


@pytest.fixture
def place_order(platform: Platform) -> PlaceOrder:
    """Submit an order straight to the kernel and wait until it is journaled."""

    def place(account: str = "paper", **fields: object) -> Order:
        fields.setdefault("symbol", "AAPL")
        fields.setdefault("side", "buy")
        fields.setdefault("qty", 1)
        order = platform.kernel_runtime.kernel.submit(account, OrderRequest.parse(**fields))
        platform.kernel_runtime.journal.flush()
        return order

    return place
