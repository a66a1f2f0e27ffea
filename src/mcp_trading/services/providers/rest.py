"""providers :8093 — the market-data providers in use, their status, error rates and quotas."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.providers.fetch import body_fields
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["build"]

DESCRIPTION = """Market-data providers: which are active, how each is doing, and failover.

`GET /providers` (viewer) lists `active_providers` (names, in priority order),
`live_providers` (the active ones that serve quotes: the live feed's candidates), `chains`
(the failover order per data kind: quotes, daily, intraday), `serving` (the provider that last
served each kind), `switches` (the latest failovers, newest first) and, per provider: `name`,
`kind` (simulator, replay, files, alphavantage, ...), `serves` (data kinds), `status` (`ok`,
`degraded`, `down`), `circuit` (`closed`; `open`: failing, skipped until its cool-down ends;
`half_open`: the next call probes it), `calls_left` (`minute` and `day` windows of its
client-side rate limit; null: none), `last_success` (ISO time), `error_rate` (failed / all
outcomes over `window_s`; null without outcomes) and `rate_limit` (requests per minute; null:
none). No key or secret is ever shown.

`POST /providers/{name}/enable` and `/disable` (operator) put a provider into or out of every
chain: unknown name 404; disabling the last live quote provider while trading is active 409.

`POST /history/{symbol}/fetch` (operator; body `{"timeframe": "1Day", "start": "2010-01-04",
"end": "2010-12-31"}`, every field optional) fetches from the daily or intraday chain what the
history store lacks of that range and stores it under the provider's name (a stored range is
never fetched twice); the answer names the provider that served (`served_by`), the bars
`fetched` now, the range stored and, per provider, why it did not serve. 422 for a bad
timeframe or range, 409 when no provider is configured for the kind, 503 (or 404) when every
provider failed (or none knows the symbol), naming each one's reason.

`GET /replay` and `POST /replay/step` (`{"n": 1}`), `/replay/pause`, `/replay/resume`,
`/replay/seek` (`{"date": "2010-03-01"}`) (operator) show and drive the replay feed
(MCP_TRADING_FEED=replay): state, replay time, speed, symbols and sources, range, steps and
bars left. 409 when the feed is not a replay, when it runs in another process (distributed
mode: the market-data process runs it), or when the action does not fit the state (a step
while it runs at N×: pause first).

`GET /health` is public and counts the live feed only (a history-only provider never makes it
worse): `providers_status` is `ok` (every live provider ok), `degraded` or `down` (none up);
`status` is `healthy`, `degraded` or `down` accordingly.
"""


def build(platform: Platform) -> FastAPI:
    svc = ProvidersService.for_platform(platform)  # its poller: the spec's task
    router = APIRouter()

    @router.get("/providers", tags=["providers"],
                summary="Active providers and each one's status, error rate and rate limit")
    async def providers(request: Request) -> Response:
        return FastJSON(svc.providers(principal_of(request)))

    @router.post("/providers/{name}/enable", tags=["providers"],
                 summary="Put a provider back into its failover chains (operator)")
    async def enable(request: Request, name: str) -> Response:
        return FastJSON(svc.enable(principal_of(request), name))

    @router.post("/providers/{name}/disable", tags=["providers"],
                 summary="Take a provider out of every chain (operator; 409 for the last live "
                         "quote provider while trading is active)")
    async def disable(request: Request, name: str) -> Response:
        return FastJSON(svc.disable(principal_of(request), name))

    @router.post("/history/{symbol}/fetch", tags=["history"],
                 summary="Fetch history the store lacks from the provider chain (operator)")
    async def fetch(request: Request, symbol: str) -> Response:
        body = body_fields(await json_body(request, allow_empty=True),
                           {"timeframe": str, "start": str, "end": str})
        return FastJSON(await svc.fetch(principal_of(request), symbol, **body))

    @router.get("/replay", tags=["replay"], summary="The replay feed's status (operator)")
    async def replay(request: Request) -> Response:
        return FastJSON(svc.replay_status(principal_of(request)))

    @router.post("/replay/{action}", tags=["replay"],
                 summary="step ({\"n\": 1}), pause, resume or seek ({\"date\": \"2010-03-01\"}) "
                         "the replay (operator)")
    async def replay_control(request: Request, action: str) -> Response:
        body = body_fields(await json_body(request, allow_empty=True),
                           {"n": int} if action == "step" else
                           {"date": str} if action == "seek" else {})
        return FastJSON(svc.replay_control(principal_of(request), action, n=body.get("n"),
                                           day=body.get("date")))

    return create_app(platform, "providers", routers=[router], health=svc.health,
                      description=DESCRIPTION)

