"""The supervisor starts real child processes in dependency order, keeps them alive, stops them.

Every child is the tiny HTTP server in CHILD (written to tmp_path): it answers /health with
200 once its readiness delay has passed (503 before), and can exit with a chosen code after a
delay, so a crash, a slow start and a start that never gets healthy are all real processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from mcp_trading.processes import procs, supervisor
from mcp_trading.processes.supervisor import (
    ProcessSpec,
    Supervisor,
    SupervisorError,
    SupervisorEvent,
    read_state,
    start_order,
    write_state,
)

CHILD = """\
import os, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, exit_code = int(sys.argv[1]), int(sys.argv[4])
ready_after, exit_after = float(sys.argv[2]), float(sys.argv[3])
born = time.monotonic()

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        ready = self.path == "/health" and time.monotonic() - born >= ready_after
        self.send_response(200 if ready else 503)
        self.end_headers()

    def log_message(self, *args):
        pass

print(f"child booting on port {port}", flush=True)
server = HTTPServer(("127.0.0.1", port), Health)
if exit_after >= 0:
    threading.Timer(exit_after, lambda: (print("child exiting", flush=True), os._exit(exit_code))).start()
server.serve_forever()
"""

FAST: dict[str, Any] = {"backoff_initial_s": 0.05, "backoff_max_s": 0.2, "grace_s": 2.0,
                        "probe_timeout_s": 0.5, "health_interval_s": 0.2, "poll_interval_s": 0.02}

# the runbook's services and what each needs running first
GRAPH = {"market-data": (), "providers": (), "trading-engine": ("market-data", "providers"),
         "orders": ("trading-engine",), "risk": ("trading-engine",), "portfolio": ("trading-engine",),
         "alerts": ("orders", "risk", "portfolio")}

slow = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def service(tmp_path: Path) -> Callable[..., ProcessSpec]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    def make(name: str, *depends_on: str, ready_after: float = 0.0, exit_after: float = -1,
             exit_code: int = 0, ready_timeout_s: float = 5.0) -> ProcessSpec:
        port = free_port()
        return ProcessSpec(name=name, depends_on=depends_on, ready_timeout_s=ready_timeout_s,
                           argv=[sys.executable, str(script), str(port), str(ready_after),
                                 str(exit_after), str(exit_code)],
                           health_url=f"http://127.0.0.1:{port}/health",
                           log_file=tmp_path / "logs" / f"{name}.log", env={"PYTHONUNBUFFERED": "1"})
    return make


@pytest.fixture
def supervise() -> Iterator[Callable[..., tuple[Supervisor, list[SupervisorEvent]]]]:
    """A supervisor with fast timings and a recorded event list; always stopped at the end."""
    made: list[Supervisor] = []

    def make(specs: list[ProcessSpec], **kwargs: Any) -> tuple[Supervisor, list[SupervisorEvent]]:
        events: list[SupervisorEvent] = []
        sup = Supervisor(specs, on_event=events.append, **{**FAST, **kwargs})
        made.append(sup)
        return sup, events
    yield make
    for sup in made:
        sup.stop(grace_s=1.0)


def pids(sup: Supervisor) -> dict[str, int | None]:
    return {row["name"]: row["pid"] for row in sup.status()}


def row(sup: Supervisor, name: str) -> dict[str, Any]:
    return next(r for r in sup.status() if r["name"] == name)


def watch_until(sup: Supervisor, done: Callable[[], bool], timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"condition not met within {timeout_s} s: {sup.status()}"
        sup.watch_once()
        time.sleep(0.02)


def started_pids(events: list[SupervisorEvent]) -> list[int]:
    return [int(e.detail.split()[-1]) for e in events if e.kind == "started"]


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid)


def test_public_surface_is_pinned() -> None:
    assert set(supervisor.__all__) == {"ProcessSpec", "Supervisor", "SupervisorError", "SupervisorEvent",
                                       "read_state", "start_order", "write_state"}
    assert set(procs.__all__) == {"ProcessSpec", "is_same_process", "log_tail", "lower_priority",
                                  "port_of", "probe_health",
                                  "process_create_time", "process_start_ticks", "read_state",
                                  "signal_group", "spawn", "stop_processes", "write_state"}


def test_start_order_puts_every_service_after_its_dependencies() -> None:
    specs = [ProcessSpec(name=n, argv=["x"], health_url="http://h/", depends_on=d) for n, d in GRAPH.items()]
    assert start_order(specs) == [["market-data", "providers"], ["trading-engine"],
                                  ["orders", "portfolio", "risk"], ["alerts"]]


def test_a_dependency_cycle_is_rejected_naming_the_services() -> None:
    specs = [ProcessSpec(name="a", argv=["x"], health_url="http://h/", depends_on=("b",)),
             ProcessSpec(name="b", argv=["x"], health_url="http://h/", depends_on=("a",)),
             ProcessSpec(name="c", argv=["x"], health_url="http://h/")]
    with pytest.raises(ValueError, match=r"cycle.*a -> b; b -> a"):
        start_order(specs)
    with pytest.raises(ValueError, match="cycle"):
        Supervisor(specs)


def test_an_unknown_dependency_is_rejected() -> None:
    specs = [ProcessSpec(name="orders", argv=["x"], health_url="http://h/", depends_on=("engine",))]
    with pytest.raises(ValueError, match="'orders' depends on 'engine', which is not a configured"):
        start_order(specs)


@slow
def test_a_dependent_starts_only_after_its_dependency_is_healthy(service: Any, supervise: Any) -> None:
    sup, events = supervise([service("engine", "feed"), service("feed", ready_after=0.4)])
    sup.start()
    seen = [(e.kind, e.service) for e in events]
    assert seen == [("started", "feed"), ("healthy", "feed"), ("started", "engine"), ("healthy", "engine")]
    feed_healthy, engine_started = events[1].ts, events[2].ts
    assert feed_healthy - events[0].ts >= 0.4  # the feed's readiness delay was waited out
    assert engine_started >= feed_healthy
    assert [r["state"] for r in sup.status()] == ["healthy", "healthy"]


@slow
def test_a_killed_child_is_restarted_with_a_new_pid_and_the_others_keep_theirs(
        service: Any, supervise: Any) -> None:
    sup, events = supervise([service("feed"), service("engine", "feed")])
    sup.start()
    before = pids(sup)
    stop = threading.Event()
    watcher = threading.Thread(target=sup.run_forever, args=(stop,), daemon=True)
    watcher.start()
    try:
        os.kill(before["engine"], signal.SIGKILL)  # type: ignore[arg-type]
        deadline = time.monotonic() + 8
        while not (row(sup, "engine")["state"] == "healthy" and pids(sup)["engine"] != before["engine"]):
            assert time.monotonic() < deadline, sup.status()
            time.sleep(0.02)
    finally:
        stop.set()
        watcher.join(5)
    after = pids(sup)
    assert after["feed"] == before["feed"]
    assert row(sup, "engine")["restarts"] == 1
    assert row(sup, "engine")["last_exit"] == -signal.SIGKILL
    engine_events = [(e.kind, e.detail.split(" (")[0]) for e in events if e.service == "engine"][2:]
    assert engine_events[:3] == [("exited", "killed by signal 9"), ("restarting", "in 0.05 s"),
                                 ("started", f"pid {after['engine']}")]


@slow
def test_restart_replaces_only_the_named_service(service: Any, supervise: Any) -> None:
    feed = service("feed")
    sup, _ = supervise([feed, service("engine", "feed")])
    sup.start()
    before = pids(sup)
    sup.restart("engine")
    after = pids(sup)
    assert after["feed"] == before["feed"]
    assert after["engine"] != before["engine"]
    assert gone(before["engine"])  # type: ignore[arg-type]
    assert row(sup, "engine")["state"] == "healthy"
    assert row(sup, "feed")["port"] == procs.port_of(feed.health_url)
    with pytest.raises(ValueError, match="unknown service 'nope'"):
        sup.restart("nope")


@slow
def test_stop_goes_in_reverse_dependency_order_and_leaves_no_child(
        service: Any, supervise: Any, tmp_path: Path) -> None:
    sup, events = supervise([service(name, *deps) for name, deps in GRAPH.items()])
    sup.start()
    running = pids(sup)
    state_file = tmp_path / "supervisor.json"
    write_state(state_file, os.getpid(), sup.status())
    assert all(s["alive"] for s in read_state(state_file)["services"])  # type: ignore[index]
    sup.stop(grace_s=2.0)
    stopped = [e.service for e in events if e.kind == "stopped"]
    assert stopped == ["alerts", "orders", "portfolio", "risk", "trading-engine", "market-data", "providers"]
    assert all(gone(pid) for pid in running.values())  # type: ignore[arg-type]
    assert not any(s["alive"] for s in read_state(state_file)["services"])  # type: ignore[index]
    assert {(r["state"], r["pid"]) for r in sup.status()} == {("stopped", None)}
    sup.stop()  # idempotent: nothing more happens
    assert [e.service for e in events if e.kind == "stopped"] == stopped


@slow
def test_a_service_that_never_gets_healthy_fails_start_with_its_log_tail(
        service: Any, supervise: Any) -> None:
    sup, events = supervise([service("feed"), service("engine", "feed", ready_after=60, ready_timeout_s=0.6)])
    with pytest.raises(SupervisorError, match=r"'engine' did not answer 2xx .* within 0.6 s") as err:
        sup.start()
    assert err.value.service == "engine"
    assert err.value.exit_code is None
    assert "child booting on port" in err.value.log_tail
    assert err.value.log_tail in str(err.value)
    assert all(gone(pid) for pid in started_pids(events))
    assert [e.service for e in events if e.kind == "stopped"] == ["engine", "feed"]


def test_cancel_start_stops_a_start_that_waits_for_a_slow_service(
        service: Any, supervise: Any) -> None:
    """A SIGTERM during start-up (launcher: cancel_start) stops it now, not after the wait."""
    import threading

    sup, events = supervise([service("feed"), service("engine", "feed", ready_after=60,
                                                      ready_timeout_s=30)])
    threading.Timer(0.5, sup.cancel_start).start()
    began = time.monotonic()
    with pytest.raises(SupervisorError, match="start-up canceled"):
        sup.start()
    assert time.monotonic() - began < 10
    assert all(gone(pid) for pid in started_pids(events))
    assert [e.service for e in events if e.kind == "stopped"] == ["engine", "feed"]


@slow
def test_a_service_that_exits_during_start_reports_its_exit_code(service: Any, supervise: Any) -> None:
    sup, events = supervise([service("feed", ready_after=60, exit_after=0.2, exit_code=7)])
    with pytest.raises(SupervisorError, match=r"'feed' exited during start \(code=7\)") as err:
        sup.start()
    assert err.value.exit_code == 7
    assert "child exiting" in err.value.log_tail
    assert all(gone(pid) for pid in started_pids(events))


@slow
def test_the_supervisor_gives_up_after_too_many_quick_crashes(service: Any, supervise: Any) -> None:
    sup, events = supervise([service("feed", exit_after=0.3, exit_code=3)], max_restarts_per_window=(2, 60.0))
    sup.start()
    watch_until(sup, lambda: row(sup, "feed")["state"] == "failed")
    kinds = [e.kind for e in events if e.kind in ("exited", "restarting", "gave_up")]
    assert kinds == ["exited", "restarting", "exited", "restarting", "exited", "gave_up"]
    feed = row(sup, "feed")
    assert (feed["pid"], feed["state"], feed["restarts"], feed["last_exit"]) == (None, "failed", 2, 3)


def test_the_state_file_round_trips_and_tells_a_live_pid_from_a_reused_one(tmp_path: Path) -> None:
    path = tmp_path / "run" / "supervisor.json"
    assert read_state(path) is None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_state(path, os.getpid(), [
            {"name": "feed", "pid": child.pid, "state": "healthy"},
            # our own PID, but recorded with another process's start: a reused PID
            {"name": "engine", "pid": os.getpid(), "start_ticks": 1, "state": "healthy"},
            {"name": "risk", "pid": None, "state": "failed"},
        ])
        state = read_state(path)
        assert state is not None
        assert state["supervisor"]["pid"] == os.getpid() and state["supervisor"]["alive"]
        assert state["services"][0]["create_time"] == pytest.approx(psutil.Process(child.pid).create_time())
        assert [(s["name"], s["alive"]) for s in state["services"]] == [
            ("feed", True), ("engine", False), ("risk", False)]
        assert [p.name for p in path.parent.iterdir()] == ["supervisor.json"]  # no temp file left
    finally:
        child.kill()
        child.wait()
    state = read_state(path)
    assert state is not None and state["services"][0]["alive"] is False
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_state(path)


LOWER = """\
import os, sys, threading
from pathlib import Path
from mcp_trading.processes.procs import lower_priority
print(lower_priority(int(sys.argv[2]), autogroup=Path(sys.argv[1])), os.nice(0))
later = []
thread = threading.Thread(target=lambda: later.append(os.sched_getscheduler(0)))
thread.start(); thread.join()
print(os.sched_getscheduler(0) == os.SCHED_BATCH, later == [os.SCHED_BATCH])
"""


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
@pytest.mark.parametrize("own_session", [True, False])
def test_lower_priority_lowers_the_session_group_only_of_a_session_leader(
        tmp_path: Path, own_session: bool) -> None:
    # Linux autogrouping ranks sessions before processes: a service spawned in its own session
    # must lower its session's group, or its nice value means nothing against the engine; a
    # process run inside someone else's session (a terminal) must leave that session alone.
    # Either way its threads, and those started later, stop preempting the engine on wake-up.
    group = tmp_path / "autogroup"
    group.write_text("untouched\n")
    out = subprocess.run([sys.executable, "-c", LOWER, str(group), "3"], capture_output=True,
                         text=True, check=True, start_new_session=own_session, timeout=30)
    nice = os.nice(0) + 3
    assert out.stdout.split() == [str(nice), str(nice), "True", "True"]
    assert group.read_text() == (f"{nice}\n" if own_session else "untouched\n")
