"""Which services answer: each process probes the others' `/health` in the background.

The comprehensive health check (what resume requires) and the alerts service ask "is every
service serving?"; in distributed mode the answer comes from these cached probes, so a
health request never waits on another process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx

from mcp_trading.config import Settings

__all__ = ["PeerHealth"]


class PeerHealth:
    """The last probe of each peer; this process's own service always counts as up."""

    def __init__(self, settings: Settings, me: str, peers: Iterable[str], *,
                 interval_s: float = 2.0) -> None:
        self.me = me
        self.urls = {p: settings.service_url(p) + "/health" for p in peers if p != me}
        self.interval_s = interval_s
        self.up: dict[str, bool] = dict.fromkeys(self.urls, False)

    def services_up(self) -> dict[str, bool]:
        return {self.me: True, **self.up}

    async def probe_once(self, client: httpx.AsyncClient) -> None:
        async def one(service: str, url: str) -> None:
            try:
                self.up[service] = (await client.get(url)).status_code == 200
            except httpx.HTTPError:
                self.up[service] = False

        await asyncio.gather(*(one(s, u) for s, u in self.urls.items()))

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=1.0) as client:
            while True:
                await self.probe_once(client)
                await asyncio.sleep(self.interval_s)
