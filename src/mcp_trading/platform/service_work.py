"""Each service's declared background work (its spec's `tasks`), mixed into `Platform`.

Kept per service so one service can be restarted inside a running process (embedded
`mcp-trading restart SERVICE`): its tasks are cancelled, their work objects stopped, and
fresh ones built and started, while every other service's keep running.

    absent --start--> running --restart(service)--> running (new objects) --stop--> absent
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from mcp_trading.services.spec import Background, load

if TYPE_CHECKING:
    from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["ServiceWork"]

_Running = list[tuple[Background, "asyncio.Task[None]"]]


class ServiceWork:
    """The services' background work of `Platform`; a mixin, never used alone."""

    if TYPE_CHECKING:  # what it uses of the Platform it is mixed into
        _service_work: dict[str, _Running]

        def _declared_tasks(self) -> list[tuple[ServiceSpec, TaskSpec]]: ...
        async def _supervised(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None: ...

    def _start_service_work(self, only: str | None = None) -> int:
        """Build and start the declared tasks (of service `only`, or of every service)."""
        started = 0
        for spec, task in self._declared_tasks():
            if only is not None and spec.name != only:
                continue
            work: Background = load(task.factory)(self)
            running = asyncio.create_task(self._supervised(work.run),
                                          name=f"{spec.name}:{task.name}")
            self._service_work.setdefault(spec.name, []).append((work, running))
            started += 1
        return started

    async def _stop_service_work(self, only: str | None = None) -> None:
        """Cancel the tasks, then stop their work (of service `only`, or of every service)."""
        names = list(self._service_work) if only is None else [only]
        stopping = [pair for name in names for pair in self._service_work.pop(name, [])]
        for _, task in stopping:
            task.cancel()
        for work, task in stopping:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await work.stop()

    def service_work(self, service: str | None = None) -> list[Background]:
        """The running work objects (of `service`, or of every service), for checks."""
        names = list(self._service_work) if service is None else [service]
        return [work for name in names for work, _ in self._service_work.get(name, [])]

    async def restart_service_work(self, service: str) -> int:
        """Stop `service`'s background work and start it afresh; the number of tasks started."""
        await self._stop_service_work(service)
        return self._start_service_work(service)
