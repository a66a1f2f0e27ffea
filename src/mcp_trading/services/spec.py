"""What one service declares: `ServiceSpec` (read by every runner, face and tool of the platform).

A spec names its faces, tasks and health rule by import path ("package.module:attribute"),
so reading the registry imports nothing heavy; `load` resolves a path when a service starts.
This module imports only the standard library.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["Background", "Distributed", "ServiceSpec", "TaskSpec", "load"]

#: what a service's process does in distributed mode:
#:   engine   runs the kernel, the single writer (and takes the forwarded writes)
#:   replica  folds every journaled event into a read-only copy of the kernel's state
#:   control  folds only the control plane (trading states, limits, maintenance)
#:   quotes   folds no events; follows the quotes the feed publishes
#:   feed     folds no events; runs the feed and publishes its quotes
Distributed = Literal["engine", "replica", "control", "quotes", "feed"]

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


class Background(Protocol):
    """What a task factory returns: `run()` until cancelled, then `stop()` (release what it
    holds); the platform starts it when the service starts and restarts it if it fails."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One background task: `factory(platform) -> Background`, by import path.

    `in_engine`: in distributed mode the task runs in the trading engine's process, not in
    its service's (it needs the kernel: e.g. the live strategy runner, whose orders go
    straight to the kernel like an embedded one's)."""

    name: str
    factory: str
    in_engine: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSpec:
    """One service of the platform, declared once.

    `rest` is `build(platform) -> FastAPI`; each of `mcp` is `register(server, platform)`
    (tools, resources, prompts, in order); `health` is `rule(platform) -> () -> dict`, the
    body of the service's public `/health` (its `status` is healthy, degraded or down).
    `writes` are the (method, path regex) routes a replica forwards to the engine;
    `engine_reads` the GET routes it forwards too, because what they read lives only in the
    engine's process (e.g. a live strategy instance's runner).
    """

    name: str
    title: str
    port: int  # default port; the setting is `port_setting` (env MCP_TRADING_PORT_<NAME>)
    rest: str
    mcp: tuple[str, ...] = ()
    health: str | None = None
    tasks: tuple[TaskSpec, ...] = ()
    depends_on: tuple[str, ...] = ()
    distributed: Distributed = "replica"
    writes: tuple[tuple[str, str], ...] = ()
    engine_reads: tuple[str, ...] = ()  # path regexes of GET routes
    collects_alerts: bool = False  # distributed: every process's alerts are sent here

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"service name {self.name!r}: use lower-case words joined by '-', "
                             "e.g. market-data")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{self.name}: port {self.port} is outside 0-65535")
        paths = [self.rest, self.health, *self.mcp, *(t.factory for t in self.tasks)]
        for path in paths:
            if path is not None and not _PATH.fullmatch(path):
                raise ValueError(f"{self.name}: {path!r} is not an import path "
                                 "'package.module:attribute'")
        for method, pattern in self.writes:
            if method not in ("POST", "PUT", "PATCH", "DELETE"):
                raise ValueError(f"{self.name}: forwarded write {method} {pattern}: the method "
                                 "must be POST, PUT, PATCH or DELETE")
            re.compile(pattern)
        for pattern in self.engine_reads:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{self.name}: forwarded read {pattern!r} is not a regular "
                                 f"expression ({exc})") from None

    @property
    def forwarded(self) -> tuple[tuple[str, str], ...]:
        """(method, path regex) of every route a replica forwards to the engine."""
        return self.writes + tuple(("GET", pattern) for pattern in self.engine_reads)

    @property
    def port_setting(self) -> str:
        """The Settings field (and, upper-cased with MCP_TRADING_, the environment variable)."""
        return "port_" + self.name.replace("-", "_")

    @property
    def port_env(self) -> str:
        return "MCP_TRADING_" + self.port_setting.upper()


def load(path: str) -> Any:
    """The object an import path "package.module:attribute" names (imported now)."""
    module, _, attribute = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"{path}: cannot be loaded ({exc}); check the service's spec") from exc
