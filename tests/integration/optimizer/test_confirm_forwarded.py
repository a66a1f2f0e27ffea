"""Distributed mode's path for a rebalance confirm, in process: the optimizer's app (a
replica service) forwards `POST /rebalance/{id}/confirm` — and only that — to the engine's
`/internal/optimizer` mount, which authenticates the credential again, finds the preview in
the shared store and places the orders; the answer comes back through the replica."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from tests.integration.optimizer.conftest import feed_quotes

from mcp_trading.platform.platform import Platform
from mcp_trading.processes.distributed.forward import ForwardWrites, StampSeq, internal_prefix
from mcp_trading.services.optimizer import rest

TRADER = {"Authorization": "Bearer trader"}


def test_the_confirm_is_forwarded_to_the_engine_and_placed_there(platform: Platform) -> None:
    feed_quotes(platform, AAPL="150.00", MSFT="30.00")
    engine = FastAPI()
    engine.mount(internal_prefix("optimizer"), StampSeq(rest.build(platform), platform))
    seen: list[str] = []

    async def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        transport = httpx.ASGITransport(app=engine)
        return await transport.handle_async_request(request)

    front = ForwardWrites(rest.build(platform), platform=platform, service="optimizer",
                          engine_url="http://engine",
                          transport=httpx.MockTransport(recording))

    async def flow() -> tuple[dict[str, Any], httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=front),
                                     base_url="http://optimizer") as client:
            preview = (await client.post("/rebalance", headers=TRADER,
                                         json={"weights": {"AAPL": 0.3, "MSFT": 0.2}})).json()
            assert seen == []  # a preview is answered by the replica itself
            refused = await client.post(f"/rebalance/{preview['preview_id']}/confirm",
                                        json={"confirmation_token": "x" * 20})
            assert refused.status_code == 401  # no credential: not forwarded at all
            confirmed = await client.post(f"/rebalance/{preview['preview_id']}/confirm",
                                          headers=TRADER,
                                          json={"confirmation_token":
                                                preview["confirmation_token"]})
            return preview, confirmed

    preview, confirmed = asyncio.run(flow())
    assert seen == [f"/internal/optimizer/rebalance/{preview['preview_id']}/confirm"]
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "placed"
    orders = platform.kernel_runtime.kernel.state.orders.values()
    assert {o.symbol for o in orders} == {"AAPL", "MSFT"}
    assert {o.attribution for o in orders} == {preview["attribution"]}
