"""Distributed mode's supervisor: each service its own process, started, kept alive, stopped.

Start order comes from the dependency graph (`start_order`); stop order is its reverse, so
the writers (orders, risk, portfolio) stop before the trading engine, and the engine before
the market data it trades on. The OS side (spawn, probe, signals, state file) is in procs.py.

States of one service:
    starting    spawned by start(); waiting for its first 2xx health answer
    healthy     alive, and its latest health probe answered 2xx
    unhealthy   alive, but its latest probe failed; reported, not killed: a busy engine that
                answers slowly must not be shot mid-write by its own supervisor
    restarting  exited (or restart() asked): waiting out the backoff, or respawned and
                waiting for health (a respawn that stays unhealthy past its timeout is killed)
    stopped     not running: never started, or stop()ped
    failed      crashed too often inside the window; given up (restart() revives it)
Errors: SupervisorError (a service would not start or restart), ValueError (a bad graph).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mcp_trading.domain.errors import TradingError
from mcp_trading.processes import procs
from mcp_trading.processes.procs import ProcessSpec, read_state, write_state

__all__ = ["ProcessSpec", "Supervisor", "SupervisorError", "SupervisorEvent", "read_state",
           "start_order", "write_state"]

log = logging.getLogger("mcp_trading.supervisor")


class SupervisorEvent(NamedTuple):
    """What happened to a service. kind: started, exited, restarting, healthy, unhealthy,
    gave_up or stopped; ts is wall-clock seconds since the epoch."""

    kind: str
    service: str
    detail: str
    ts: float


class SupervisorError(TradingError, RuntimeError):
    """A service would not start or restart; the message carries its exit code and log tail."""

    def __init__(self, message: str, *, service: str | None = None, exit_code: int | None = None,
                 log_tail: str = "") -> None:
        super().__init__(message)
        self.service = service
        self.exit_code = exit_code
        self.log_tail = log_tail


def start_order(specs: Iterable[ProcessSpec]) -> list[list[str]]:
    """Topological levels: every service comes in a level after all of its dependencies."""
    by_name: dict[str, ProcessSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ValueError(f"service {spec.name!r} is configured twice; names must be unique")
        by_name[spec.name] = spec
    for spec in by_name.values():
        for dep in spec.depends_on:
            if dep not in by_name:
                raise ValueError(f"service {spec.name!r} depends on {dep!r}, which is not a configured "
                                 f"service (known: {', '.join(sorted(by_name))})")
    waiting = {name: set(spec.depends_on) for name, spec in by_name.items()}
    levels: list[list[str]] = []
    while waiting:
        ready = sorted(name for name, deps in waiting.items() if not deps)
        if not ready:
            cycle = "; ".join(f"{n} -> {', '.join(sorted(d))}" for n, d in sorted(waiting.items()))
            raise ValueError(f"dependency cycle among services: {cycle}; break one dependency")
        levels.append(ready)
        for name in ready:
            del waiting[name]
        for deps in waiting.values():
            deps.difference_update(ready)
    return levels


@dataclass(slots=True)
class _Child:
    spec: ProcessSpec
    state: str = "stopped"
    proc: subprocess.Popen[bytes] | None = None
    create_time: float | None = None  # epoch, for people
    start_ticks: int | None = None  # what tells this process from a later one with its PID
    restarts: int = 0
    last_exit: int | None = None
    crashes: deque[float] = field(default_factory=deque)  # clock() of exits inside the window
    restart_at: float | None = None  # end of the backoff; proc is None meanwhile
    ready_by: float = 0.0  # a respawn still unhealthy after this is killed
    probe_at: float = 0.0  # next routine probe of a running service
    busy: bool = False  # restart() owns it; the watcher keeps off


class Supervisor:
    """Runs `specs` as child processes; see the module docstring for the states and orders."""

    def __init__(self, specs: Sequence[ProcessSpec], *,
                 on_event: Callable[[SupervisorEvent], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 backoff_initial_s: float = 0.5, backoff_max_s: float = 30.0,
                 max_restarts_per_window: tuple[int, float] = (5, 300.0),
                 grace_s: float = 10.0, probe_timeout_s: float = 1.0,
                 health_interval_s: float = 5.0, poll_interval_s: float = 0.1) -> None:
        self._levels = start_order(specs)
        self._children = {spec.name: _Child(spec) for spec in specs}
        self._order = [name for level in self._levels for name in level]
        self._on_event = on_event
        self._clock, self._sleep = clock, sleep
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._window = max_restarts_per_window
        self._grace_s, self._probe_timeout_s = grace_s, probe_timeout_s
        self._health_interval_s, self._poll_interval_s = health_interval_s, poll_interval_s
        self._lock = threading.Lock()  # guards every _Child and _phase
        self._phase = "idle"  # idle -> starting -> running -> stopping -> stopped
        self._cancel = threading.Event()  # cancel_start(): a stop asked for during start()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start level by level, each level healthy before the next; on failure stop them all.

        Raises SupervisorError naming the service that failed, with its exit code and log tail.
        """
        with self._lock:
            if self._phase not in ("idle", "stopped"):
                raise SupervisorError(f"supervisor is {self._phase}; stop() it before start()")
            self._phase = "starting"
        self._cancel.clear()
        try:
            for level in self._levels:
                children = [self._children[name] for name in level]
                with self._lock:
                    if self._phase != "starting":
                        raise SupervisorError("supervisor was stopped while starting")
                    events = [e for child in children for e in self._spawn(child, "starting")]
                self._emit(events)
                self._await_healthy(children)
        except BaseException:
            self._stop_all(self._grace_s)
            raise
        with self._lock:
            self._phase = "running"

    def cancel_start(self) -> None:
        """Make a start() under way give up (it stops what it started and raises); safe from
        a signal handler. A no-op once the services are up."""
        self._cancel.set()

    def stop(self, grace_s: float | None = None) -> None:
        """Stop every service in reverse start order (SIGTERM, wait, SIGKILL); idempotent."""
        with self._lock:
            if self._phase in ("idle", "stopped"):
                return
            self._phase = "stopping"
        self._stop_all(self._grace_s if grace_s is None else grace_s)

    def restart(self, name: str) -> None:
        """Stop one service gracefully, start it again and wait until it is healthy.

        Other services are untouched. On failure the watcher keeps retrying with backoff and
        SupervisorError is raised.
        """
        if name not in self._children:
            raise ValueError(f"unknown service {name!r} (known: {', '.join(self._order)})")
        with self._lock:
            child = self._children[name]
            if self._phase != "running":
                raise SupervisorError(f"cannot restart {name!r}: supervisor is {self._phase}")
            if child.busy:
                raise SupervisorError(f"{name!r} is already being restarted; wait for it")
            child.busy, old, child.proc = True, child.proc, None
            child.state, child.restart_at = "restarting", None
            event = self._event("restarting", name, "on request")
        self._emit([event])
        try:
            code = procs.stop_processes([old], self._grace_s, self._clock)[0] if old else child.last_exit
            with self._lock:
                child.last_exit = code
                if self._phase != "running":
                    raise SupervisorError(f"{name!r} was not restarted: supervisor is {self._phase}")
                child.crashes.clear()
                events = self._spawn(child, "restarting")
            self._emit(events)
            try:
                self._await_healthy([child])
            except SupervisorError:
                with self._lock:
                    if child.proc is not None and child.proc.poll() is None:
                        procs.signal_group(child.proc.pid, signal.SIGKILL)  # the watcher sees it exit
                raise
        finally:
            with self._lock:
                child.busy = False

    def status(self) -> list[dict[str, Any]]:
        """One row per service in start order: name, pid, create_time, start_ticks, port, state,
        restarts, last_exit, health_url (write_state's input)."""
        with self._lock:
            return [{"name": name, "pid": c.proc.pid if c.proc else None,
                     "create_time": c.create_time if c.proc else None,
                     "start_ticks": c.start_ticks if c.proc else None,
                     "port": procs.port_of(c.spec.health_url), "state": c.state, "restarts": c.restarts,
                     "last_exit": c.last_exit, "health_url": c.spec.health_url}
                    for name in self._order for c in [self._children[name]]]

    # -- watching --------------------------------------------------------------------------

    def run_forever(self, stop_event: threading.Event, interval_s: float | None = None) -> None:
        """Call watch_once until `stop_event` is set; stopping the services is stop()'s job."""
        interval = self._poll_interval_s if interval_s is None else interval_s
        while not stop_event.is_set():
            self.watch_once()
            stop_event.wait(interval)

    def watch_once(self) -> None:
        """One non-blocking pass: notice exits, respawn after backoff, probe health.

        Only probes block, each for at most probe_timeout_s, and never under the lock.
        """
        events: list[SupervisorEvent] = []
        to_probe: list[tuple[_Child, subprocess.Popen[bytes]]] = []
        with self._lock:
            if self._phase != "running":
                return
            now = self._clock()
            for child in (self._children[n] for n in self._order):
                if child.busy or child.state in ("failed", "stopped"):
                    continue
                proc = child.proc
                if proc is None:
                    if child.restart_at is not None and now >= child.restart_at:
                        events += self._spawn(child, "restarting")
                elif (code := proc.poll()) is not None:
                    events += self._after_exit(child, code, now)
                elif child.state == "restarting" and now > child.ready_by:
                    procs.signal_group(proc.pid, signal.SIGKILL)  # counted as a crash when it is reaped
                    log.warning("%s not healthy %.1f s after respawn; killed", child.spec.name,
                                child.spec.ready_timeout_s)
                elif child.state == "restarting" or now >= child.probe_at:
                    to_probe.append((child, proc))
        results = [(c, p, procs.probe_health(c.spec.health_url, self._probe_timeout_s)) for c, p in to_probe]
        with self._lock:
            for child, proc, ok in results:
                if child.proc is proc and not child.busy and self._phase == "running":
                    events += self._after_probe(child, ok)
        self._emit(events)

    # -- internals (the ones named _spawn/_after_* run under the lock) -----------------------

    def _event(self, kind: str, service: str, detail: str) -> SupervisorEvent:
        return SupervisorEvent(kind, service, detail, time.time())

    def _emit(self, events: Iterable[SupervisorEvent]) -> None:
        for event in events:
            log.info("%s %s: %s", event.service, event.kind, event.detail)
            if self._on_event is None:
                continue
            try:
                self._on_event(event)
            except Exception:
                # a broken alert sink must not stop the supervisor keeping services alive
                log.exception("on_event handler failed for %s", event)

    def _spawn(self, child: _Child, state: str) -> list[SupervisorEvent]:
        name, again = child.spec.name, state == "restarting"
        try:
            proc = procs.spawn(child.spec, note=f"(restart {child.restarts + 1})" if again else "")
        except OSError as exc:
            if not again:
                raise SupervisorError(f"service {name!r} could not be executed: {exc}",
                                      service=name) from exc
            return self._after_exit(child, None, self._clock())
        child.proc, child.state, child.start_ticks = proc, state, procs.process_start_ticks(proc.pid)
        child.create_time = procs.process_create_time(proc.pid)
        child.restart_at, child.ready_by = None, self._clock() + child.spec.ready_timeout_s
        if again:
            child.restarts += 1
        return [self._event("started", name, f"pid {proc.pid}")]

    def _after_exit(self, child: _Child, code: int | None, now: float) -> list[SupervisorEvent]:
        name, (limit, window_s) = child.spec.name, self._window
        child.proc, child.last_exit = None, code
        how = "could not be executed" if code is None else (
            f"killed by signal {-code}" if code < 0 else f"exit code {code}")
        events = [self._event("exited", name, how)]
        while child.crashes and now - child.crashes[0] > window_s:
            child.crashes.popleft()
        child.crashes.append(now)
        if len(child.crashes) > limit:
            child.state = "failed"
            events.append(self._event("gave_up", name, f"{len(child.crashes)} exits within "
                                      f"{window_s:g} s (limit {limit}); restart it by hand"))
            return events
        initial, cap = self._backoff
        delay = min(cap, initial * 2 ** (len(child.crashes) - 1))
        child.state, child.restart_at = "restarting", now + delay
        events.append(self._event("restarting", name, f"in {delay:g} s ({len(child.crashes)} of "
                                  f"{limit} restarts within {window_s:g} s)"))
        return events

    def _after_probe(self, child: _Child, ok: bool) -> list[SupervisorEvent]:
        child.probe_at = self._clock() + self._health_interval_s
        if ok and child.state != "healthy":
            child.state = "healthy"
            return [self._event("healthy", child.spec.name, child.spec.health_url)]
        if not ok and child.state == "healthy":
            child.state = "unhealthy"
            return [self._event("unhealthy", child.spec.name, f"{child.spec.health_url} failed")]
        return []

    def _await_healthy(self, children: Sequence[_Child]) -> None:
        """Block until every child answers 2xx; raise SupervisorError on an exit or a timeout."""
        pending = list(children)
        while pending:
            if self._cancel.is_set():
                raise SupervisorError("start-up canceled: a stop was asked for")
            for child in list(pending):
                proc, spec = child.proc, child.spec
                code = proc.poll() if proc is not None else None
                if proc is None or code is not None:
                    raise self._start_error(child, f"exited during start ({code=})", code)
                if procs.probe_health(spec.health_url, self._probe_timeout_s):
                    with self._lock:
                        events = self._after_probe(child, True) if child.proc is proc else []
                    self._emit(events)
                    pending.remove(child)
                elif self._clock() > child.ready_by:
                    raise self._start_error(child, f"did not answer 2xx at {spec.health_url} "
                                            f"within {spec.ready_timeout_s:g} s", None)
            if pending:
                self._sleep(self._poll_interval_s)

    def _start_error(self, child: _Child, what: str, code: int | None) -> SupervisorError:
        spec = child.spec
        tail = procs.log_tail(spec.log_file)
        where = f"\n--- last lines of {spec.log_file} ---\n{tail}" if spec.log_file else " (no log file)"
        return SupervisorError(f"service {spec.name!r} {what}{where}", service=spec.name,
                               exit_code=code, log_tail=tail)

    def _stop_all(self, grace_s: float) -> None:
        for level in reversed(self._levels):
            with self._lock:
                self._phase = "stopping"
                taken = [(c, c.proc) for c in (self._children[n] for n in level)]
                for child, _ in taken:
                    child.proc, child.state, child.restart_at = None, "stopped", None
            running = [(c, p) for c, p in taken if p is not None]
            codes = procs.stop_processes([p for _, p in running], grace_s, self._clock)
            with self._lock:
                for (child, _), code in zip(running, codes, strict=True):
                    child.last_exit = code
            self._emit(self._event("stopped", c.spec.name, f"exit code {code}")
                       for (c, _), code in zip(running, codes, strict=True))
        with self._lock:
            self._phase = "stopped"
