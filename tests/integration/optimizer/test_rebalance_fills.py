"""A confirm places the buys only once the sells have filled: with the paper venue's order
latency (`latency_ms`) a market sell fills on a later quote, and the confirm waits for it;
a limit sell that does not fill within `fill_wait_s` is canceled and no buy is placed, and
the answer says so per order."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.optimizer.conftest import feed_quotes

from mcp_trading.config import Settings
from mcp_trading.domain.orders import OrderStatus
from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer import rest

TRADER = {"Authorization": "Bearer trader"}
PRICES = {"AAPL": "150.00", "MSFT": "30.00", "GOOGL": "120.00"}
START = {"AAPL": 0.5, "MSFT": 0.3}
MOVE = {"MSFT": 0.6, "GOOGL": 0.35}  # sells all of AAPL, buys MSFT and GOOGL with it


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", projection="off", latency_ms=50)


async def _feed(platform: Platform, stop: asyncio.Event) -> None:
    """The feed, on the confirm's own loop: a quote per symbol every 20 ms."""
    while not stop.is_set():
        feed_quotes(platform, **PRICES)
        await asyncio.sleep(0.02)


async def _rebalance(client: httpx.AsyncClient, weights: dict[str, float],
                     **confirm: Any) -> tuple[dict[str, Any], httpx.Response]:
    preview = (await client.post("/rebalance", headers=TRADER,
                                 json={"weights": weights, **confirm.pop("preview", {})})).json()
    answer = await client.post(f"/rebalance/{preview['preview_id']}/confirm", headers=TRADER,
                               json={"confirmation_token": preview["confirmation_token"],
                                     **confirm})
    return preview, answer


def _run(platform: Platform, flow: Any) -> Any:
    async def main() -> Any:
        stop = asyncio.Event()
        feeder = asyncio.create_task(_feed(platform, stop))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.build(platform)),
                                         base_url="http://optimizer") as client:
                return await flow(client)
        finally:
            stop.set()
            await feeder
    return asyncio.run(main())


def test_with_order_latency_the_buys_wait_for_the_sells_to_fill(platform: Platform) -> None:
    feed_quotes(platform, **PRICES)

    async def flow(client: httpx.AsyncClient) -> tuple[Any, ...]:
        _, first = await _rebalance(client, START)
        await asyncio.sleep(0.2)  # the buys reach the venue 50 ms on and fill
        preview, second = await _rebalance(client, MOVE)
        return first, preview, second

    first, preview, second = _run(platform, flow)
    assert first.status_code == 200 and first.json()["status"] == "placed", first.text
    kernel = platform.kernel_runtime.kernel
    assert [o["side"] for o in preview["orders"]] == ["sell", "buy", "buy"]
    assert preview["proceeds_margin"] == "0.005"
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["status"] == "placed" and body["placed"] == 3, body
    sell = body["orders"][0]
    assert sell["symbol"] == "AAPL" and sell["outcome"] == "filled"
    assert sell["order"]["status"] == "filled"
    assert [o["outcome"] for o in body["orders"][1:]] == ["placed", "placed"]
    # the buys were accepted only after the sell's fill
    aapl = kernel.get_order(sell["order"]["id"])
    buys = [kernel.get_order(o["order"]["id"]) for o in body["orders"][1:]]
    assert aapl.filled_at is not None
    assert all(b.created_at >= aapl.filled_at for b in buys)
    assert "the sells filled in" in body["summary"]
    assert kernel.state.accounts["paper"].positions["AAPL"].qty == 0


def test_a_limit_sell_that_does_not_fill_is_canceled_and_no_buy_is_placed(
        platform: Platform) -> None:
    feed_quotes(platform, **PRICES)

    async def flow(client: httpx.AsyncClient) -> tuple[Any, ...]:
        await _rebalance(client, START)
        await asyncio.sleep(0.2)
        # a limit sell at the mid (150.01) rests: the bid stays at 150.00
        return await _rebalance(client, MOVE, fill_wait_s=0.3,
                                preview={"order_type": "limit"})

    preview, answer = _run(platform, flow)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "incomplete" and body["placed"] == 1
    sell, *buys = body["orders"]
    assert sell["symbol"] == "AAPL" and sell["placed"] is True
    assert sell["order"]["status"] == "canceled" and sell["order"]["filled_qty"] == "0"
    assert sell["outcome"] == "canceled, nothing filled"
    assert [b["outcome"] for b in buys] == ["not placed", "not placed"]
    assert all("1 of 1 sells did not fill within 0.3 s" in b["message"] for b in buys)
    assert "canceled" in body["summary"]
    kernel = platform.kernel_runtime.kernel
    order = kernel.get_order(sell["order"]["id"])
    assert order.status is OrderStatus.CANCELED and order.filled_qty == 0
    placed = [o for o in kernel.state.orders.values() if o.symbol == "GOOGL"]
    assert placed == []  # no buy reached the kernel
    assert kernel.state.accounts["paper"].positions["AAPL"].qty == Decimal(333)
    assert len(preview["orders"]) == 3


def test_the_fill_wait_is_bounded(platform: Platform) -> None:
    feed_quotes(platform, **PRICES)

    async def flow(client: httpx.AsyncClient) -> httpx.Response:
        return (await _rebalance(client, START, fill_wait_s=60))[1]

    answer = _run(platform, flow)
    assert answer.status_code == 422 and answer.json()["field"] == "fill_wait_s"
