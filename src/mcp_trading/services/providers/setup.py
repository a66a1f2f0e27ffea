"""The history providers the settings configure, for the service and for the offline CLI.

    files         MCP_TRADING_FILES_DIR set (a watched directory; MCP_TRADING_FILES_POLL_S)
    alphavantage  MCP_TRADING_ALPHAVANTAGE_API_KEY set (its base URL, limits and timeout)

Each serves the history kinds whose chain names it (alphavantage also quotes, when the quotes
chain names it). The live feed's provider (simulator or replay) needs the platform and is
added by the service (`service.build_providers`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.providers.alphavantage import AlphaVantageProvider
from mcp_trading.adapters.providers.base import DATA_KINDS, DataKind, Provider
from mcp_trading.adapters.providers.files import FilesProvider
from mcp_trading.adapters.providers.ratelimit import Clock
from mcp_trading.config import Settings

__all__ = ["chains_of", "history_providers", "no_provider_hint"]


def chains_of(settings: Settings) -> dict[str, list[str]]:
    """The failover order per data kind, defaults resolved."""
    return {kind: settings.provider_chain(kind) for kind in DATA_KINDS}


def history_providers(settings: Settings, *, clock: Clock, store: Callable[[], HistoryStore],
                      chains: Mapping[str, Sequence[str]]) -> list[Provider]:
    """The configured providers other than the live feed's."""
    out: list[Provider] = []
    if settings.files_dir is not None:
        out.append(FilesProvider(settings.files_dir, store, poll_s=settings.files_poll_s))
    key = settings.alphavantage_api_key
    if key is not None:
        av = AlphaVantageProvider(
            api_key=key, clock=clock, base_url=settings.alphavantage_base_url,
            calls_per_minute=settings.alphavantage_calls_per_minute,
            calls_per_day=settings.alphavantage_calls_per_day,
            timeout_s=settings.alphavantage_timeout_s)
        serves = frozenset(k for k in DATA_KINDS if "alphavantage" in chains.get(k, ()))
        av.serves = serves or av.serves
        out.append(av)
    return out


def no_provider_hint(kind: DataKind) -> str:
    """What to set so that `kind` has a provider."""
    return (f"set MCP_TRADING_ALPHAVANTAGE_API_KEY (Alpha Vantage) or MCP_TRADING_FILES_DIR (a "
            f"directory of CSV/Parquet files), or name a configured provider in "
            f"MCP_TRADING_PROVIDER_CHAIN_{kind.upper()}")
