"""portfolio :8013 over a real platform: summary per account and in total, positions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio import rest as portfolio

Auth = Callable[[str], dict[str, str]]
FIELDS = {"equity", "cash", "market_value", "realized_pnl", "unrealized_pnl", "daily_pnl",
          "return_since_start", "positions_count", "as_of"}


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(portfolio.build(platform))


def test_summary_of_a_fresh_platform(client: TestClient, auth: Auth) -> None:
    assert client.get("/portfolio/summary").status_code == 401
    body = client.get("/portfolio/summary", headers=auth("viewer")).json()
    (paper,) = body["accounts"]
    assert set(paper) >= FIELDS
    assert set(body["total"]) >= FIELDS
    assert paper["account_id"] == "paper"
    assert paper["equity"] == paper["cash"] == "100000.00"
    assert paper["return_since_start"] == "0.0000"
    assert paper["positions_count"] == 0
    assert body["total"]["accounts_count"] == 1
    assert body["as_of"].endswith("Z")


def test_summary_values_positions_at_their_marks(client: TestClient, auth: Auth,
                                                 feed_quote: Any, place_order: Any) -> None:
    feed_quote(last="100.00")
    place_order(qty=100)  # bought at the ask, 100.02
    feed_quote(bid="104.99", ask="105.01", last="105.00")
    place_order(qty=40, side="sell")  # sold at the bid, 104.99
    body = client.get("/portfolio/summary", headers=auth("viewer")).json()
    (paper,) = body["accounts"]
    assert paper["cash"] == "94197.60"  # 100,000 - 10,002 + 4,199.60
    assert paper["market_value"] == "6300.00"  # 60 x 105.00
    assert paper["equity"] == "100497.60"
    assert paper["realized_pnl"] == "198.80"  # 40 x (104.99 - 100.02)
    assert paper["unrealized_pnl"] == "298.80"  # 60 x (105.00 - 100.02)
    assert paper["daily_pnl"] == "497.60"
    assert paper["return_since_start"] == "0.4976"
    assert paper["positions_count"] == 1
    assert body["total"]["equity"] == "100497.60"


def test_total_leaves_out_internal_accounts(client: TestClient, auth: Auth,
                                            platform: Platform) -> None:
    kernel = platform.kernel_runtime.kernel
    kernel.open_account("_selftest", Decimal(1_000_000), internal=True)
    kernel.open_account("desk2", Decimal(50_000))
    platform.kernel_runtime.journal.flush()
    body = client.get("/portfolio/summary", headers=auth("viewer")).json()
    assert [a["account_id"] for a in body["accounts"]] == ["paper", "desk2"]
    assert body["total"]["equity"] == "150000.00"
    one = client.get("/portfolio/summary", params={"account_id": "desk2"},
                     headers=auth("viewer")).json()
    assert [a["account_id"] for a in one["accounts"]] == ["desk2"]
    assert one["total"]["equity"] == "50000.00"


def test_summary_of_an_unknown_account_is_404(client: TestClient, auth: Auth) -> None:
    response = client.get("/portfolio/summary", params={"account_id": "ghost"},
                          headers=auth("viewer"))
    assert response.status_code == 404
    assert response.json()["field"] == "account_id"


def test_account_bound_credential_reads_only_its_account(client: TestClient, auth: Auth,
                                                         platform: Platform) -> None:
    platform.kernel_runtime.kernel.open_account("desk2", Decimal(50_000))
    platform.kernel_runtime.journal.flush()
    mine = client.get("/portfolio/summary", headers=auth("viewer@desk2")).json()
    assert [a["account_id"] for a in mine["accounts"]] == ["desk2"]
    other = client.get("/portfolio/summary", params={"account_id": "paper"},
                       headers=auth("viewer@desk2"))
    assert other.status_code == 403


def test_positions_with_marks(client: TestClient, auth: Auth, feed_quote: Any,
                              place_order: Any) -> None:
    feed_quote(last="100.00")
    place_order(qty=10)
    feed_quote(bid="101.99", ask="102.01", last="102.00")
    body = client.get("/portfolio/positions", headers=auth("viewer")).json()
    (paper,) = body["accounts"]
    (position,) = paper["positions"]
    assert position["symbol"] == "AAPL"
    assert position["qty"] == "10"
    assert position["current_price"] == "102.00"
    assert position["market_value"] == "1020.00"
    assert position["unrealized_pl"] == "19.80"
    assert position["mark_at"].endswith("Z")
    assert position["weight_pct"] == "1.02"


def test_health_reports_the_marks(client: TestClient, feed_quote: Any,
                                  platform: Platform) -> None:
    platform.health.feed_status = "down"
    body = client.get("/health").json()
    assert (body["status"], body["marks"]) == ("degraded", "down")
    feed_quote()
    assert client.get("/health").json()["status"] == "healthy"
