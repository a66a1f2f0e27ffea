"""Live strategy instances as the kernel records them: who runs which strategy on which account.

An instance is a fact of the journal (`StrategyInstanceStarted`, `StrategyInstanceStopped`),
so it survives a crash and a restart like an order does; the live runner
(services/strategies/live.py) reads these records and runs what they say. States:

    running ──stop (a user, an operator, or the runner when a callback raised or hung)──▶ stopped

`stopped` is final: a new instance is started instead (instances are cheap; their orders
keep the attribution `strategy:<instance id>` for good).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INSTANCE_TIMEFRAMES", "InstanceStatus", "StrategyInstance", "attribution_of"]

#: the bar timeframes a live instance can be fed (market data's 1-minute bars, the session's)
INSTANCE_TIMEFRAMES = ("1Min", "1Day")


class InstanceStatus:
    RUNNING = "running"  # the runner feeds it bars, quotes and fills
    STOPPED = "stopped"  # final: nothing is fed, nothing it asks is placed


def attribution_of(instance_id: str) -> str:
    """The attribution of every order an instance places."""
    return f"strategy:{instance_id}"


@dataclass(slots=True)
class StrategyInstance:
    """One instance, folded from its two events (kernel/state.py applies them)."""

    id: str
    strategy: str
    params: str  # the parsed parameters as a JSON object (StrategyParams.as_dict)
    account_id: str
    symbols: tuple[str, ...]
    timeframe: str
    started_by: str
    started_at: int  # ns
    status: str = InstanceStatus.RUNNING
    stopped_at: int | None = None
    stop_reason: str | None = None
    stopped_by: str | None = None

    @property
    def running(self) -> bool:
        return self.status == InstanceStatus.RUNNING
