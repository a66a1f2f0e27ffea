"""Restart one service inside a running embedded platform (`mcp-trading restart SERVICE`).

The control channel is local: the CLI writes `<data dir>/embedded.restart` (the service's
name) and sends SIGUSR2 to the PID in the PID file; the process answers in
`<data dir>/embedded.restart.done` (`{"service", "ok", "error", "tasks", "pid"}`), so only
the platform's own user (who can signal it and write its data dir) can ask.

A restart of one service, while every other keeps serving:

    serving --request--> draining (its server stops: no new connections are taken, open
    requests get 5 s, then streams are closed) --> its background tasks stopped and
    rebuilt --> serving (a new server on the same listening socket: connections made
    meanwhile wait in its backlog)

The trading engine is the kernel's own service: the CLI restarts the whole process
gracefully instead (stop, then start again), never from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from mcp_trading.config import Settings

if TYPE_CHECKING:
    from mcp_trading.platform.platform import Platform
    from mcp_trading.processes.runner import SignalFreeServer

__all__ = ["KERNEL_SERVICE", "EmbeddedServers", "request_path", "result_path"]

log = logging.getLogger("mcp_trading.runner")

KERNEL_SERVICE = "trading-engine"  # restarting it restarts the process
_START_TIMEOUT_S = 30.0
_GRACE_S = 5.0  # open requests of the restarting service get this long to finish


def request_path(settings: Settings) -> Path:
    return settings.data_dir / "embedded.restart"


def result_path(settings: Settings) -> Path:
    return settings.data_dir / "embedded.restart.done"


class EmbeddedServers:
    """Every service's uvicorn server of one embedded process, each on a duplicate of its
    bound socket (a stopping server closes its duplicate; the bound one keeps listening)."""

    def __init__(self, platform: Platform, apps: dict[str, FastAPI],
                 sockets: dict[str, socket.socket]) -> None:
        self.platform = platform
        self.apps = apps
        self.sockets = sockets
        self.servers: dict[str, SignalFreeServer] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._busy = False

    def start(self, name: str) -> None:
        from mcp_trading.processes.runner import http_server

        server = self.servers[name] = http_server(self.apps[name])
        self.tasks[name] = asyncio.create_task(
            server.serve(sockets=[self.sockets[name].dup()]), name=name)

    def up(self) -> dict[str, bool]:
        return {name: bool(s.started and not s.should_exit) for name, s in self.servers.items()}

    async def wait_started(self, names: list[str], timeout: float = _START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.servers[n].started for n in names):
            failed = [n for n in names if self.tasks[n].done()]
            if failed:
                raise RuntimeError(f"service {failed[0]} failed to start; see the log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{', '.join(names)} did not start within {timeout:g} s")
            await asyncio.sleep(0.01)

    async def stop_all(self) -> None:
        for server in self.servers.values():
            server.should_exit = True
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def _stop_server(self, name: str) -> None:
        """Stop taking connections, let open requests finish for a grace period, then close
        what still streams (a quote stream never ends by itself)."""
        server, task = self.servers[name], self.tasks[name]
        server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=_GRACE_S)
        if not done:
            server.force_exit = True
        with contextlib.suppress(Exception):
            await task

    async def restart(self, name: str) -> int:
        """Stop `name`'s server and background work, start them again; tasks started."""
        if name not in self.servers:
            raise ValueError(f"service {name!r} is not known; use one of: "
                             f"{', '.join(self.servers)}")
        if name == KERNEL_SERVICE:
            raise ValueError(f"{KERNEL_SERVICE} is the kernel's own service: restart the "
                             "process (`mcp-trading restart trading-engine` does)")
        if self._busy:
            raise ValueError("a restart is already under way; wait for it")
        self._busy = True
        try:
            log.info("restarting %s", name)
            await self._stop_server(name)
            log.info("%s: server stopped; restarting its background tasks", name)
            tasks = await self.platform.restart_service_work(name)
            self.start(name)
            await self.wait_started([name])
            log.info("restarted %s (%d background tasks)", name, tasks)
            return tasks
        finally:
            self._busy = False

    def listen(self, settings: Settings) -> None:
        """Serve restart requests (SIGUSR2 + the request file) on the running loop."""
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()

        def on_signal() -> None:
            task = loop.create_task(self._serve_request(settings))
            pending.add(task)
            task.add_done_callback(pending.discard)

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGUSR2, on_signal)

    async def _serve_request(self, settings: Settings) -> None:
        path = request_path(settings)
        try:
            name = path.read_text().strip()
            path.unlink()
        except FileNotFoundError:
            return  # a stray signal: nothing asked
        answer: dict[str, object] = {"service": name, "pid": os.getpid()}
        try:
            answer.update(ok=True, error=None, tasks=await self.restart(name))
        except (ValueError, RuntimeError) as exc:
            answer.update(ok=False, error=str(exc), tasks=0)
        tmp = result_path(settings).with_suffix(".tmp")
        tmp.write_text(json.dumps(answer))
        tmp.replace(result_path(settings))
