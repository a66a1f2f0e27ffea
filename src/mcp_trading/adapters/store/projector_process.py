"""The projector as its own OS process: `python -m mcp_trading.adapters.store.projector_process`.

Projecting the journal into the reporting tables is read-side work; in its own process it
uses the second core instead of the trading process's GIL. It catches up every `--interval`
seconds in short transactions (so the journal's writer never waits long for the SQLite write
lock), exits on SIGTERM after a final catch-up, and exits by itself if its parent dies.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy.engine import make_url

from mcp_trading.adapters.store.projector import Projector

__all__ = ["ProjectorProcess", "main"]

log = logging.getLogger("mcp_trading.projector")

#: Journal records (group-commit segments) per transaction. SQLite has one write lock for the
#: whole database, so its transactions stay short: the journal's writer never waits long for
#: it. A server database locks rows, and there a transaction costs far more than a record:
#: measured under `benchmarks/api.py --distributed` load, 100 records per transaction instead
#: of 5 cut the projector's CPU from ~3.0 to ~1.3 CPU-s per 8 s and its PostgreSQL backend's
#: from ~1.5 to ~0.5, which left the trading engine that much more of the machine.
_BATCH_SQLITE = 5
_BATCH_SERVER = 100


def _batch_size(url: str) -> int:
    """Journal records per projection transaction on the database at `url`."""
    return _BATCH_SQLITE if make_url(url).get_backend_name() == "sqlite" else _BATCH_SERVER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="database URL of the projection tables")
    parser.add_argument("--journal-url", default=None,
                        help="database URL of the journal (default: the same as --url)")
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s projector: %(message)s")
    # reporting tables are background work: run only on an otherwise idle CPU (SCHED_IDLE
    # where the OS has it, else a high nice value), so the trading process never waits for it;
    # under sustained saturation the projections lag and catch up when the load eases
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    source = None
    if args.journal_url and args.journal_url != args.url:
        from mcp_trading.adapters.store.sql import SqlJournalStore

        source = SqlJournalStore(args.journal_url)
    projector = Projector(args.url, source=source)
    batch = _batch_size(args.url)
    delay = args.interval
    try:
        while not stop.wait(delay):
            if os.getppid() != parent:  # the platform died: nothing left to project for
                log.warning("parent process gone; exiting")
                break
            try:
                projector.catch_up(batch)
                delay = args.interval
            except Exception:
                log.warning("projection failed; retrying", exc_info=True)
                delay = min(delay * 2, 30.0)
        projector.catch_up(batch)
    finally:
        projector.close()
        if source is not None:
            source.close()
    return 0


class ProjectorProcess:
    """The platform's handle on the projector child: start, watch, restart, stop."""

    def __init__(self, url: str, interval: float, log_path: str | None = None, *,
                 journal_url: str | None = None,
                 module: str = "mcp_trading.adapters.store.projector_process",
                 env: dict[str, str] | None = None) -> None:
        # `module`/`env`: the platform's entry point that installs its database login
        # (platform/projector_main.py), so no password needs to be on the command line
        self._cmd = [sys.executable, "-m", module, "--url", url, "--interval", str(interval)]
        self._env = {**os.environ, **env} if env is not None else None
        if journal_url is not None:
            self._cmd += ["--journal-url", journal_url]
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.error: str | None = None
        self._next_restart = 0.0

    def start(self) -> None:
        out = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(self._cmd, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=self._env)

    def check(self) -> bool:
        """Restart the child if it died (with backoff); True while it runs."""
        proc = self._proc
        if proc is None or proc.poll() is None:
            self.error = None
            return proc is not None
        self.error = f"projector exited with code {proc.returncode}"
        now = time.monotonic()
        if now >= self._next_restart:
            self.restarts += 1
            self._next_restart = now + min(2 ** self.restarts, 60)
            log.warning("%s; restarting (restart %d)", self.error, self.restarts)
            self.start()
        return False

    def stop(self, timeout: float = 30.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


if __name__ == "__main__":
    sys.exit(main())
