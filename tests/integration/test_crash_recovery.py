"""Crash recovery: a kernel killed with SIGKILL at random moments loses nothing it acknowledged.

The kernel runs in a subprocess (crash_driver.py) on a SQLite journal and prints one ACK line
per order a command touched, only once the journal says the command is durable. The test
kills it several times at random delays, restarts it on the same journal each time, and then
checks the recovered state against every acknowledgement made before any kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest

from mcp_trading.domain.orders import TERMINAL, TRANSITIONS, OrderStatus

DRIVER = Path(__file__).with_name("crash_driver.py")
ROUNDS = 5
START_TIMEOUT_S = 20.0


def later_statuses(status: OrderStatus) -> set[OrderStatus]:
    """Every status the state machine can reach from `status` (itself included)."""
    seen = {status}
    todo = deque([status])
    while todo:
        current = todo.popleft()
        for (source, _), target in TRANSITIONS.items():
            if source is current and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


class Driver:
    """One run of the driver: its ACK lines are collected on a thread as they arrive."""

    def __init__(self, url: str, seed: int, stderr: IO[bytes]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), url, "--seed", str(seed)],
            stdout=subprocess.PIPE, stderr=stderr, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.acks: list[tuple[str, str, Decimal]] = []
        self.ready = threading.Event()
        self.first_ack = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if not raw.endswith(b"\n"):
                break  # cut short by the kill: never a whole acknowledgement
            parts = raw.decode().split()
            if parts[0] == "READY":
                self.ready.set()
            elif parts[0] == "ACK":
                self.acks.append((parts[1], parts[2], Decimal(parts[3])))
                self.first_ack.set()

    def kill(self) -> None:
        assert self.proc.poll() is None, f"the driver exited by itself ({self.proc.returncode})"
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self._reader.join(timeout=10)


def dump(url: str, *, use_snapshot: bool) -> dict[str, Any]:
    args = [sys.executable, str(DRIVER), url, "--dump"] + ([] if use_snapshot else ["--no-snapshot"])
    out = subprocess.run(args, capture_output=True, check=True, timeout=60)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.slow
def test_acknowledged_orders_survive_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    rng = random.Random(20260101)
    acked: dict[str, tuple[str, Decimal]] = {}  # order id -> latest acknowledged state
    with (tmp_path / "driver.stderr").open("wb") as stderr:
        for round_no in range(ROUNDS):
            driver = Driver(url, seed=round_no, stderr=stderr)
            try:
                if not driver.ready.wait(START_TIMEOUT_S):
                    pytest.fail(f"round {round_no}: the driver did not recover within "
                                f"{START_TIMEOUT_S} s; see {tmp_path / 'driver.stderr'}")
                # a busy machine can take a while for the first ack; the kill then lands at a
                # random moment while acknowledgements are flowing
                driver.first_ack.wait(START_TIMEOUT_S)
                time.sleep(rng.uniform(0.05, 0.5))
            finally:
                if driver.proc.poll() is None:
                    driver.kill()
            assert driver.acks, f"round {round_no}: nothing was acknowledged before the kill"
            for order_id, status, filled in driver.acks:
                acked[order_id] = (status, filled)

    recovered = dump(url, use_snapshot=True)
    # a full replay of the journal must agree with snapshot + tail
    assert dump(url, use_snapshot=False) | {"snapshot_seq": 0, "replayed": 0} == recovered | {
        "snapshot_seq": 0, "replayed": 0}

    assert recovered["snapshot_seq"] > 0, "no snapshot was taken: the snapshot path went untested"
    orders = recovered["orders"]
    for order_id, (status, filled) in acked.items():
        assert order_id in orders, f"acknowledged order {order_id} was lost"
        now = orders[order_id]
        now_status, now_filled = OrderStatus(now["status"]), Decimal(now["filled_qty"])
        acked_status = OrderStatus(status)
        if acked_status in TERMINAL:
            assert (now_status, now_filled) == (acked_status, filled), (
                f"{order_id} was acknowledged {status} with {filled} filled, recovered "
                f"{now_status} with {now_filled}")
        else:
            assert now_status in later_statuses(acked_status), (
                f"{order_id} went back from {status} to {now_status}")
            assert now_filled >= filled, f"{order_id} had {filled} filled, now {now_filled}"
        if now_status is OrderStatus.FILLED:
            assert now_filled == Decimal(now["qty"])

    for account, positions in recovered["positions"].items():
        fills = recovered["fills"][account]
        for symbol in positions.keys() | fills.keys():
            assert Decimal(positions.get(symbol, "0")) == Decimal(fills.get(symbol, "0")), (account, symbol)
        assert Decimal(recovered["cash"][account]) == Decimal(recovered["cash_from_fills"][account])
        assert Decimal(recovered["reserved"][account]) == Decimal(recovered["open_reserved"][account])
