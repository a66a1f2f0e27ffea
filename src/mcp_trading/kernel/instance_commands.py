"""The kernel's commands for live strategy instances: start one, stop one (journaled facts).

A base of `KernelCommands` (kernel/commands.py), so the single writer owns instances as it
owns accounts and halts: `start_instance` checks what the kernel knows (the account, the
symbols, the timeframe) and emits `StrategyInstanceStarted`; `stop_instance` emits
`StrategyInstanceStopped` for a running one. What the strategy and its parameters mean is
the strategies service's business: it validates them before it asks.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mcp_trading.domain.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    UnknownSymbolError,
)
from mcp_trading.domain.events import StrategyInstanceStarted, StrategyInstanceStopped
from mcp_trading.domain.instances import INSTANCE_TIMEFRAMES, StrategyInstance

if TYPE_CHECKING:
    from mcp_trading.domain.accounts import Account
    from mcp_trading.domain.events import Event
    from mcp_trading.domain.instruments import Instrument
    from mcp_trading.kernel.ports import Clock
    from mcp_trading.kernel.state import KernelState

__all__ = ["MAX_INSTANCE_SYMBOLS", "InstanceCommands"]

MAX_INSTANCE_SYMBOLS = 50


class InstanceCommands:
    """Instance commands of `Kernel`; a mixin, never used alone."""

    if TYPE_CHECKING:
        clock: Clock
        state: KernelState
        instruments: dict[str, Instrument]

        def _emit(self, event: Event) -> None: ...
        def _account(self, account_id: str) -> Account: ...

    def start_instance(self, *, strategy: str, params: str, account_id: str,
                       symbols: tuple[str, ...], timeframe: str, started_by: str,
                       instance_id: str | None = None) -> StrategyInstance:
        """Record a new running instance; its id is new (random unless given, for tests)."""
        self.check_instance(account_id=account_id, symbols=symbols, timeframe=timeframe)
        new_id = instance_id or f"si-{os.urandom(6).hex()}"
        if new_id in self.state.instances:
            raise ConflictError(f"instance {new_id} already exists", code="INSTANCE_EXISTS")
        self._emit(StrategyInstanceStarted(new_id, strategy, params, account_id, symbols,
                                           timeframe, started_by, self.clock.now_ns()))
        return self.state.instances[new_id]

    def check_instance(self, *, account_id: str, symbols: tuple[str, ...],
                       timeframe: str) -> None:
        """What start_instance checks of its account, symbols and timeframe (nothing recorded:
        a preview's check); the error names the field at fault."""
        account = self._account(account_id)
        if account.internal:
            raise InvalidError(f"account: {account_id!r} is the platform's own; start the "
                               "instance on a trading account", field="account")
        if timeframe not in INSTANCE_TIMEFRAMES:
            raise InvalidError(f"timeframe: {timeframe!r} is not allowed for a live instance; "
                               f"use one of {', '.join(INSTANCE_TIMEFRAMES)}", field="timeframe")
        if not symbols or len(symbols) > MAX_INSTANCE_SYMBOLS:
            raise InvalidError(f"symbols: give 1 to {MAX_INSTANCE_SYMBOLS} symbols, got "
                               f"{len(symbols)}", field="symbols")
        if len(set(symbols)) != len(symbols):
            raise InvalidError("symbols: a symbol is listed twice; list each once",
                               field="symbols")
        for symbol in symbols:
            if symbol not in self.instruments:
                raise UnknownSymbolError(symbol)

    def stop_instance(self, instance_id: str, *, reason: str, actor: str) -> StrategyInstance:
        """Record that a running instance stopped; stopping a stopped one is a 409."""
        instance = self.state.instances.get(instance_id)
        if instance is None:
            raise NotFoundError(f"no strategy instance {instance_id!r}; GET "
                                "/strategies/instances lists them", code="UNKNOWN_INSTANCE",
                                field="instance_id")
        if not instance.running:
            raise ConflictError(f"instance {instance_id} is already stopped "
                                f"({instance.stop_reason})", code="INSTANCE_STOPPED")
        self._emit(StrategyInstanceStopped(instance_id, reason[:1000], actor,
                                           self.clock.now_ns()))
        return instance
