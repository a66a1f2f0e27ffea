"""The OS side of supervision: spawn a service, probe its health, stop its process group.

Kept apart from the supervisor's bookkeeping so everything that touches processes, signals,
sockets and the state file can be read in one place. The state file is how a second
`mcp-trading` process (status / stop / restart) finds the supervisor and its children; each
PID is stored with its create time (for people) and its start ticks (to compare), because a
PID alone may by then name a stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

__all__ = [
    "ProcessSpec",
    "is_same_process",
    "log_tail",
    "lower_priority",
    "port_of",
    "probe_health",
    "process_create_time",
    "process_start_ticks",
    "read_state",
    "signal_group",
    "spawn",
    "stop_processes",
    "write_state",
]

STATE_VERSION = 1
# health probes go straight to the service, never through an http_proxy from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessSpec:
    """How to run one service as its own process and how to tell that it is ready.

    `env` is laid over the supervisor's own environment (a child still needs PATH and the
    venv); `log_file` receives the child's stdout and stderr, appended, and is where a
    failed start's log tail comes from. Without one, the output is discarded: a pipe nobody
    reads fills up and freezes the child.
    """

    name: str
    argv: Sequence[str]
    health_url: str
    depends_on: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    log_file: Path | None = None
    ready_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("service name is empty; give every service a name")
        if not self.argv:
            raise ValueError(f"service {self.name!r} has an empty argv; give the command to run")
        if self.ready_timeout_s <= 0:
            raise ValueError(f"service {self.name!r}: ready_timeout_s was {self.ready_timeout_s}; "
                             "must be > 0")


def spawn(spec: ProcessSpec, *, note: str = "") -> subprocess.Popen[bytes]:
    """Start the service in its own session, so a Ctrl-C at the terminal reaches only us.

    Raises OSError when the command cannot be executed.
    """
    env = {**os.environ, **spec.env} if spec.env is not None else None
    if spec.log_file is None:
        return subprocess.Popen(list(spec.argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("ab") as out:  # the child keeps its own copy of the descriptor
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        out.write(f"--- supervisor {stamp}: starting {spec.name} {note}".rstrip().encode() + b" ---\n")
        out.flush()
        return subprocess.Popen(list(spec.argv), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def lower_priority(increment: int, *, autogroup: Path = Path("/proc/self/autogroup")) -> int:
    """Lower this process's CPU priority by `increment` (Unix nice); returns the new nice.

    Two Linux details decide whether that means anything against the trading engine:
    - Autogrouping shares the CPU between sessions first, and a nice value ranks a process only
      inside its own session. `spawn` gives every service a session of its own, so a service
      that leads its session lowers the session's group too. A process inside someone else's
      session (`mcp-trading serve` at a terminal) leaves the session alone.
    - A waking thread preempts a running one of equal standing. Its threads (and those it
      starts later, which inherit it) move to SCHED_BATCH, which never preempts on wake-up:
      a read service waking for each published event no longer interrupts the engine.
    Measured under `benchmarks/api.py --distributed` load: ~6 % more orders/s from the groups
    at nice 10, ~3 % more from SCHED_BATCH. Raises OSError if the OS refuses the nice change;
    the rest is best effort (other systems have neither).
    """
    nice = os.nice(increment)
    if not increment:
        return nice
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):  # no autogrouping here: the nice value is enough
            autogroup.write_text(f"{nice}\n")
    batch = getattr(os, "SCHED_BATCH", None)
    if batch is not None:
        try:
            threads = [int(t) for t in os.listdir("/proc/self/task")]
        except OSError:
            threads = [0]  # the calling thread
        for tid in threads:
            with contextlib.suppress(OSError):  # a thread that just ended; or not permitted
                os.sched_setscheduler(tid, batch, os.sched_param(0))
    return nice


def probe_health(url: str, timeout_s: float) -> bool:
    """True when a GET of `url` answers 2xx within `timeout_s`; any failure is just False."""
    try:
        with _OPENER.open(url, timeout=timeout_s) as response:
            return 200 <= int(response.status) < 300
    except (OSError, HTTPException, ValueError):  # URLError and HTTPError are OSErrors
        return False


def signal_group(pid: int, sig: int) -> None:
    """Signal the child's whole process group (its PID is the group id); gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def stop_processes(procs: Sequence[subprocess.Popen[bytes]], grace_s: float,
                   clock: Callable[[], float] = time.monotonic) -> list[int | None]:
    """SIGTERM every group, wait up to `grace_s` for them together, then SIGKILL the rest.

    Returns the exit codes in `procs` order. Leftovers in a group whose leader exited (a
    worker the service forgot) are killed too, so a stopped service holds no port.
    """
    for proc in procs:
        if proc.poll() is None:
            signal_group(proc.pid, signal.SIGTERM)
    deadline = clock() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - clock()))
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        signal_group(proc.pid, signal.SIGKILL)
    return [proc.returncode for proc in procs]


def process_create_time(pid: int) -> float | None:
    """When the process started (seconds since the epoch); None when there is no such process."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def process_start_ticks(pid: int) -> int | None:
    """A number fixed for the process's lifetime that a later process with its PID won't share.

    On Linux: its start in clock ticks since boot, from /proc. Not the epoch create time,
    which psutil recomputes from the boot time, and that moves when NTP steps the clock.
    Elsewhere: the create time in centiseconds. None when there is no such process.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # the command name (field 2) may hold spaces and ')'; starttime is field 22
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
    except (OSError, ValueError, IndexError):
        return None
    created = process_create_time(pid)
    return None if created is None else round(created * 100)


def is_same_process(pid: int | None, start_ticks: int | None) -> bool:
    """True when `pid` is still the process that was recorded, not a later one given its PID."""
    return pid is not None and start_ticks is not None and process_start_ticks(pid) == start_ticks


def log_tail(path: Path | None, lines: int = 20) -> str:
    """The last `lines` lines of a log file ('' when there is none), for error messages."""
    if path is None:
        return ""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_of(url: str) -> int | None:
    """The port a health URL names, or the scheme's default; None when it names neither."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    return port if port is not None else {"http": 80, "https": 443}.get(parts.scheme)


def write_state(path: Path, supervisor_pid: int, services: Sequence[Mapping[str, Any]]) -> None:
    """Record the supervisor and its children for other processes; atomic (temp file + rename).

    A service row without `create_time` / `start_ticks` gets them looked up from its `pid`.
    """
    rows = [_identified(dict(service)) for service in services]
    payload = {
        "version": STATE_VERSION,
        "written_at": time.time(),
        "supervisor": _identified({"pid": supervisor_pid}),
        "services": rows,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_state(path: Path) -> dict[str, Any] | None:
    """The state file with `alive` added to the supervisor and each service; None if absent.

    `alive` is true only when the PID is still the recorded process (same start ticks).
    Raises ValueError when the file is not a state file this version wrote.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); delete it if no supervisor runs") from exc
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise ValueError(f"{path} is not a version-{STATE_VERSION} supervisor state file")
    entries = [data["supervisor"], *data["services"]]
    for entry in entries:
        entry["alive"] = is_same_process(entry.get("pid"), entry.get("start_ticks"))
    return data


def _identified(row: dict[str, Any]) -> dict[str, Any]:
    pid = row.get("pid")
    if pid is not None:
        if row.get("create_time") is None:
            row["create_time"] = process_create_time(int(pid))
        if row.get("start_ticks") is None:
            row["start_ticks"] = process_start_ticks(int(pid))
    return row
