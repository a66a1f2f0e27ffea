"""Fetching history on request: `POST :8093/history/{symbol}/fetch`, the MCP tool
`fetch_history` and `mcp-trading data fetch` share this.

The request: `timeframe` (default 1Day), `start` and `end` (RFC 3339 or `YYYY-MM-DD`; for
1Day bars a date is that trading day, whose bar is stamped at midnight New York; for intraday
a date is UTC and an `end` date takes in the whole day). Without `start`, all the history
the provider offers; without `end`, up to now.

The answer says which provider served, how many bars it fetched now (0: the store already
covered the range, nothing was called), what the range holds, and per provider of the chain
whether it served, why it did not, and what is stored from it. The refusals: a bad timeframe
or range (422, naming the field); no provider configured or enabled for the kind (409, saying
what to set); every provider failing (503) or none knowing the symbol (404), naming each
provider's reason.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from mcp_trading.adapters.feeds.replay import day_start_ns
from mcp_trading.adapters.history.contract import HISTORY_TIMEFRAMES, HistoryStore
from mcp_trading.adapters.providers.base import DAILY, INTRADAY, DataKind
from mcp_trading.adapters.providers.errors import ProviderError
from mcp_trading.adapters.providers.files import FilesProvider, Refusal
from mcp_trading.config import Settings
from mcp_trading.domain.errors import ConflictError, InvalidError
from mcp_trading.security.access import parse_time
from mcp_trading.services.providers.failover import Failover, reasons_view
from mcp_trading.services.providers.history import HistoryFetch, HistoryFetcher
from mcp_trading.services.providers.registry import ProviderRegistry
from mcp_trading.services.providers.setup import chains_of, history_providers, no_provider_hint
from mcp_trading.services.views import iso

__all__ = ["FetchRequest", "body_fields", "fetch_history", "fetch_offline", "parse_fetch"]

_DAY_NS = 86_400 * 1_000_000_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FetchRequest(NamedTuple):
    symbol: str
    timeframe: str
    start: int | None  # ns, inclusive
    end: int | None

    @property
    def kind(self) -> DataKind:
        return DAILY if self.timeframe == "1Day" else INTRADAY


def body_fields(body: Mapping[str, Any], spec: Mapping[str, type]) -> dict[str, Any]:
    """A request body's fields by `spec` (name -> type; each optional, null allowed); an
    unknown field or a value of another type is an InvalidError naming it."""
    out: dict[str, Any] = {}
    for name, value in body.items():
        kind = spec.get(name)
        if kind is None:
            raise InvalidError(f"{name}: not a field of this request; the fields are "
                               f"{', '.join(spec)}", code="INVALID_PARAMETER", field=name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise InvalidError(f"{name}: {value!r} is not a {kind.__name__}",
                               code="INVALID_PARAMETER", field=name)
        out[name] = value
    return out


def parse_fetch(symbol: str, *, timeframe: str | None = None, start: str | None = None,
                end: str | None = None) -> FetchRequest:
    """The request checked; InvalidError naming the first bad field."""
    name = symbol.strip().upper()
    if not name or len(name) > 32:
        raise InvalidError(f"symbol: {symbol!r} is not a symbol; give e.g. AAPL",
                           code="INVALID_PARAMETER", field="symbol")
    tf = (timeframe or "1Day").strip()
    if tf not in HISTORY_TIMEFRAMES:
        raise InvalidError(f"timeframe: {timeframe!r} is not allowed; use one of: "
                           + ", ".join(HISTORY_TIMEFRAMES), code="INVALID_PARAMETER",
                           field="timeframe")
    t0 = _when("start", start, tf, last=False)
    t1 = _when("end", end, tf, last=True)
    if t0 is not None and t1 is not None and t0 > t1:
        raise InvalidError(f"start: {start} is after end {end}; start must be at or before end",
                           code="INVALID_PARAMETER", field="start")
    return FetchRequest(name, tf, t0, t1)


def _when(name: str, value: str | None, timeframe: str, *, last: bool) -> int | None:
    if value is not None and _DATE.fullmatch(value.strip()) and timeframe == "1Day":
        from datetime import date

        try:
            return day_start_ns(date.fromisoformat(value.strip()))
        except ValueError:
            pass  # parse_time says what is wrong with it
    ns = parse_time(name, value)
    if ns is not None and last and value is not None and _DATE.fullmatch(value.strip()):
        ns += _DAY_NS - 1  # an intraday `end` date takes in that whole (UTC) day
    return ns


async def fetch_history(fetcher: HistoryFetcher | None, request: FetchRequest
                        ) -> dict[str, Any]:
    """Fetch what the store lacks of `request` and store it; the answer (module docstring)."""
    if fetcher is None:
        raise ConflictError("this providers service has no history store to fetch into",
                            code="NO_HISTORY_STORE")
    kind = request.kind
    failover = fetcher.failover
    configured = [n for n in failover.chains[kind] if n in failover.registry.names()]
    if not failover.chain(kind):
        if configured:
            raise ConflictError(
                f"every {kind} provider ({', '.join(configured)}) is disabled; enable one with "
                "POST :8093/providers/{name}/enable", code="NO_PROVIDER", field="timeframe")
        raise ConflictError(f"no {kind} provider is configured: {no_provider_hint(kind)}",
                            code="NO_PROVIDER", field="timeframe")
    got = await fetcher.bars(request.symbol, request.timeframe, start=request.start,
                             end=request.end)
    stored = await asyncio.to_thread(lambda: fetcher.store.series(request.symbol))
    return _reply(request, got, configured, {
        r.source: {"bars": r.bars, "first": iso(r.first), "last": iso(r.last)}
        for r in stored if r.timeframe == request.timeframe})


async def fetch_offline(settings: Settings, store: HistoryStore, request: FetchRequest
                        ) -> dict[str, Any]:
    """`mcp-trading data fetch`: the settings' history providers over `store`, with the
    platform stopped (the files provider imports its directory first, without waiting for
    files to settle)."""
    registry = ProviderRegistry(failure_threshold=settings.provider_failure_threshold,
                                cool_down_s=settings.provider_cool_down_s)
    chains = chains_of(settings)
    scanned: list[dict[str, Any]] = []
    for provider in history_providers(settings, clock=registry.clock, store=lambda: store,
                                      chains=chains):
        registry.register(provider)
        if isinstance(provider, FilesProvider) and provider.name in chains[request.kind]:
            scanned += await _scan(provider)
    fetcher = HistoryFetcher(Failover(registry, chains), store)
    reply = await fetch_history(fetcher, request)
    return {**reply, "files_scanned": scanned} if scanned else reply


async def _scan(provider: FilesProvider) -> list[dict[str, Any]]:
    """Import the files provider's directory now; what each file came to."""
    try:
        outcomes = await asyncio.to_thread(provider.scan, settle=False)
    except ProviderError as exc:
        return [{"file": str(provider.directory), "refused": exc.message}]
    return [{"file": o.file, "refused": o.reason, "row": o.row} if isinstance(o, Refusal)
            else {"file": o.file, "imported": o.bars, "inserted": o.inserted}
            for o in outcomes]


def _reply(request: FetchRequest, got: HistoryFetch, chain: list[str],
           stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    why = {r["provider"]: r["reason"] for r in reasons_view(got.skipped)}
    providers = []
    after = False  # past the provider that served
    for name in chain:
        served = name == got.source and got.complete
        if served:
            reason = None
        elif name in why:
            reason = why[name]
        elif after:
            reason = f"not asked: {got.source} served"
        else:
            reason = f"not asked: the range was already stored from {got.source}"
        after = after or name == got.source
        providers.append({"name": name, "served": served,
                          "fetched": got.fetched if served else 0, "reason": reason,
                          "stored": stored.get(name)})
    bars = got.bars
    start = "" if request.start is None else f"&start={iso(request.start)}"
    end = "" if request.end is None else f"&end={iso(request.end)}"
    return {
        "symbol": request.symbol, "timeframe": request.timeframe,
        "start": iso(request.start), "end": iso(request.end),
        "served_by": got.source, "fetched": got.fetched,
        "from_store": got.fetched == 0, "complete": got.complete, "bars": bars.size,
        "first": iso(int(bars.ts[0])) if bars.size else None,
        "last": iso(int(bars.ts[-1])) if bars.size else None,
        "providers": providers,
        "read": f"GET :8001/bars/{request.symbol}?timeframe={request.timeframe}"
                f"&source={got.source}{start}{end}",
    }
