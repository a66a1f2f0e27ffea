"""providers :8093 — the market-data providers in use, their status, error rates and quotas."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from mcp_trading.faces.rest.app import FastJSON, create_app, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["build"]

DESCRIPTION = """Market-data providers: which are active, and how each is doing.

`GET /providers` (viewer) lists `active_providers` (names, in priority order) and, per provider,
`name`, `kind` (simulator, replay, alpha_vantage, ...), `status` (`ok`, `degraded`, `down`),
`last_success` (ISO time), `error_rate` (failed / all outcomes over `window_s`; null without
outcomes) and `rate_limit` (requests per minute; null: none). No key or secret is ever shown.

`GET /health` is public: `providers_status` is `ok` (every active provider ok), `degraded` or
`down` (no active provider up); `status` is `healthy`, `degraded` or `down` accordingly.
"""


def build(platform: Platform) -> FastAPI:
    svc = ProvidersService.for_platform(platform)  # its poller: the spec's task
    router = APIRouter()

    @router.get("/providers", tags=["providers"],
                summary="Active providers and each one's status, error rate and rate limit")
    async def providers(request: Request) -> Response:
        return FastJSON(svc.providers(principal_of(request)))

    return create_app(platform, "providers", routers=[router], health=svc.health,
                      description=DESCRIPTION)

