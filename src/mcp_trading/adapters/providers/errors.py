"""The errors a provider adapter raises (faults of the source, not of the caller's input).

    ProviderError                 root (a TradingError fault); `provider` names the source
    ├── ThrottledError            the source refused for quota (or our own limiter did); retry
    │                             later (`retry_after_s` when known); opens the circuit at once
    ├── PermanentError            retrying the same call cannot help: an unknown symbol
    │                             (`scope="call"`: the provider itself is fine) or a bad key
    │                             (`scope="provider"`: every call fails; counts as a failure)
    └── ProviderUnavailableError  the network, a timeout, HTTP 5xx, a body that is not the
                                  API's: counts as a failure towards opening the circuit

Messages never carry a credential: adapters mask their keys before raising.
"""

from __future__ import annotations

from typing import Literal

from mcp_trading.domain.errors import TradingError

__all__ = ["PermanentError", "ProviderError", "ProviderUnavailableError", "ThrottledError"]


class ProviderError(TradingError):
    """A provider could not answer (see the module docstring for the kinds)."""

    code = "PROVIDER_ERROR"

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ThrottledError(ProviderError):
    code = "PROVIDER_THROTTLED"

    def __init__(self, provider: str, message: str, *, retry_after_s: float | None = None
                 ) -> None:
        super().__init__(provider, message)
        self.retry_after_s = retry_after_s


class PermanentError(ProviderError):
    code = "PROVIDER_PERMANENT_ERROR"

    def __init__(self, provider: str, message: str, *,
                 scope: Literal["call", "provider"] = "call") -> None:
        super().__init__(provider, message)
        self.scope = scope


class ProviderUnavailableError(ProviderError):
    code = "PROVIDER_UNAVAILABLE"
