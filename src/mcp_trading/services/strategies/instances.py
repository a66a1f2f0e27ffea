"""Live strategy instances: start, list, read and stop them (the REST routes and MCP tools call
these with a Principal and plain values).

Roles and account scope as for orders: a trader starts and stops instances on its account
(an account-bound credential on that one only: another account's instance is not found),
a viewer reads them, an operator acts on any. Starting checks the strategy and its
parameters (the registry), the account, symbols and timeframe (the kernel), then the kernel
journals `StrategyInstanceStarted`; the answer comes once that is durable, and the live
runner (live.py) picks it up at once. Stopping journals `StrategyInstanceStopped` and, with
`cancel_orders`, cancels the instance's working orders in the same step.

Live instances run where the kernel is: the embedded platform, or in distributed mode the
trading engine's process. There the strategies process holds no kernel: it forwards the
instance routes (start, stop, list, read: the spec's `writes` and `engine_reads`) to the
engine, which runs these same functions and journals the instance events; its MCP instance
tools make the same calls on the engine (instances_mcp.py). On the replay feed, instances
run embedded only (409 INSTANCES_REPLAY_EMBEDDED_ONLY in distributed mode).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import ConflictError, InvalidError, NotFoundError, UnavailableError
from mcp_trading.domain.instances import StrategyInstance, attribution_of
from mcp_trading.domain.orders import WORKING
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.strategies.live import LiveRunner
from mcp_trading.services.strategies.live_bars import check_timeframe
from mcp_trading.services.views import iso, order_view

if TYPE_CHECKING:
    from mcp_trading.kernel.kernel import Kernel
    from mcp_trading.platform.platform import Platform
    from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["MAX_ORDERS_SHOWN", "START_FIELDS", "InstancesService"]

START_FIELDS = ("account", "symbols", "timeframe", "params")
MAX_ORDERS_SHOWN = 100


def _symbols(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [s for s in raw.split(",") if s.strip()]
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise InvalidError("symbols: give a list of symbols or 'A,B'", field="symbols")
    return tuple(s.strip().upper() for s in raw)


class InstancesService:
    """One per platform's strategies service (`StrategiesService`: its strategy registry)."""

    def __init__(self, platform: Platform, strategies: StrategiesService) -> None:
        self.platform = platform
        self.strategies = strategies
        self.runner = LiveRunner.for_platform(platform)

    @property
    def kernel(self) -> Kernel:
        runtime = self.platform.kernel_runtime
        if self.platform.role not in ("embedded", "engine"):
            raise ConflictError("live strategy instances run where the kernel is: in "
                                "distributed mode use the REST routes of :8090 (forwarded to "
                                "the trading engine), or run the platform embedded",
                                code="INSTANCES_EMBEDDED_ONLY")
        return runtime.kernel

    def _check_accepting(self) -> None:
        reason = self.platform.core.unavailable_reason()
        if reason is not None:
            raise UnavailableError(reason, code="UNAVAILABLE")

    # ---- start ----------------------------------------------------------------------------
    async def check(self, principal: Principal | None, name: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        """What `start` would start (validated; nothing journaled): the MCP preview."""
        caller = require(principal, Role.TRADER)
        unknown = sorted(set(body) - set(START_FIELDS))
        if unknown:
            raise InvalidError(f"{unknown[0]}: is not a field of an instance; allowed: "
                               + ", ".join(START_FIELDS), field=unknown[0])
        registry = await asyncio.to_thread(self.strategies.registry)
        try:
            cls = registry.get(name)
        except InvalidError as exc:
            raise NotFoundError(exc.message, code="UNKNOWN_STRATEGY", field="name",
                                extra=exc.extra) from None
        raw = body.get("params") or {}
        if not isinstance(raw, Mapping):
            raise InvalidError("params: must be an object of the strategy's parameters",
                               field="params")
        params = cls.Params.parse(raw)
        account = resolve_account(caller, body.get("account"), self.platform.core.default_account)
        symbols = _symbols(body.get("symbols"))
        timeframe = body.get("timeframe") or self._default_timeframe()
        if not isinstance(timeframe, str):
            raise InvalidError("timeframe: must be a string, e.g. 1Min or 1Day", field="timeframe")
        kernel = self.kernel
        if self.platform.role == "engine" and self.platform.feed.name == "replay":
            # the replay runs in the market-data process: its bar marks are not seen here
            raise ConflictError("live instances on the replay feed run in embedded mode only "
                                "(in distributed mode the replay's bars are not followed by "
                                "the engine's runner yet); use the simulator feed, or run "
                                "embedded", code="INSTANCES_REPLAY_EMBEDDED_ONLY")
        check_timeframe(self.platform, timeframe)
        if account not in kernel.state.accounts:
            raise NotFoundError(f"account {account!r} does not exist", code="UNKNOWN_ACCOUNT",
                                field="account")
        kernel.check_instance(account_id=account, symbols=symbols, timeframe=timeframe)
        return {"strategy": cls.name, "params": params.as_dict(), "account": account,
                "symbols": list(symbols), "timeframe": timeframe,
                "warmup_bars": cls.warmup_bars(params)}

    def _default_timeframe(self) -> str:
        status = getattr(self.platform.feed, "status", None)
        return status().timeframe if callable(status) else "1Min"

    async def start(self, principal: Principal | None, name: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        """Start an instance (journaled; answered once durable)."""
        plan = await self.check(principal, name, body)
        caller = require(principal, Role.TRADER)
        self._check_accepting()
        instance = self.kernel.start_instance(
            strategy=plan["strategy"], params=json.dumps(plan["params"], sort_keys=True),
            account_id=plan["account"], symbols=tuple(plan["symbols"]),
            timeframe=plan["timeframe"], started_by=caller.actor)
        await self.platform.core.durable()
        self.runner.wake()
        return self.view(instance)

    # ---- reads ----------------------------------------------------------------------------
    def _visible(self, caller: Principal, instance_id: str) -> StrategyInstance:
        instance = self.kernel.state.instances.get(instance_id)
        if instance is None or (caller.account_id is not None
                                and caller.account_id != instance.account_id):
            raise NotFoundError(f"no strategy instance {instance_id!r}; GET "
                                "/strategies/instances lists them", code="UNKNOWN_INSTANCE",
                                field="instance_id")
        return instance

    def list_instances(self, principal: Principal | None, *, account: str | None = None,
             status: str | None = None) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        if caller.account_id is not None:
            account = resolve_account(caller, account, caller.account_id)
        if status not in (None, "running", "stopped"):
            raise InvalidError(f"status: {status!r} is not allowed; use running or stopped",
                               field="status")
        rows = [self.view(i, orders=False) for i in self.kernel.state.instances.values()
                if (account is None or i.account_id == account)
                and (status is None or i.status == status)]
        return {"instances": rows, "count": len(rows)}

    def get(self, principal: Principal | None, instance_id: str) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        return self.view(self._visible(caller, instance_id))

    def view(self, instance: StrategyInstance, *, orders: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": instance.id, "strategy": instance.strategy,
            "params": json.loads(instance.params), "account": instance.account_id,
            "symbols": list(instance.symbols), "timeframe": instance.timeframe,
            "status": instance.status, "attribution": attribution_of(instance.id),
            "started_by": instance.started_by, "started_at": iso(instance.started_at),
            "stopped_at": iso(instance.stopped_at), "stop_reason": instance.stop_reason,
            "stopped_by": instance.stopped_by}
        runner = self.runner.view(instance.id) or {}
        out.update({"runner": runner.get("runner", "starting" if instance.running else None),
                    "warmup_bars": runner.get("warmup_bars"), "bars": runner.get("bars", 0),
                    "last_error": runner.get("last_error"),
                    "refusals": runner.get("refusals", [])})
        if orders:
            out["orders"] = [order_view(o) for o in self._orders(instance)][-MAX_ORDERS_SHOWN:]
            out["log"] = runner.get("log", [])
        return out

    def _orders(self, instance: StrategyInstance, *, working: bool = False) -> list[Any]:
        """The instance's orders the kernel holds in memory, oldest first."""
        mine = attribution_of(instance.id)
        return [o for o in self.kernel.state.orders.values() if o.attribution == mine
                and o.account_id == instance.account_id and (not working or o.status in WORKING)]

    # ---- stop -----------------------------------------------------------------------------
    async def stop(self, principal: Principal | None, instance_id: str, *,
                   cancel_orders: bool = False) -> dict[str, Any]:
        """Stop a running instance (trader of its account, or operator); optionally cancel its
        working orders in the same step."""
        caller = require(principal, Role.TRADER)
        instance = self._visible(caller, instance_id)
        self._check_accepting()
        kernel = self.kernel
        kernel.stop_instance(instance.id, reason=f"stopped by {caller.actor}",
                             actor=caller.actor)
        canceled = []
        if cancel_orders:
            for order in self._orders(instance, working=True):
                canceled.append(kernel.cancel(order.id, account_id=instance.account_id,
                                              reason=f"instance {instance.id} stopped by "
                                                     f"{caller.actor}").id)
        await self.platform.core.durable()
        self.runner.wake()
        return {**self.view(instance), "canceled": canceled}

