"""Snapshots encoded in a forked child, so the writer's process never runs the encoder.

Why a child process: a snapshot encoded on a worker thread of the writer's process competes
with the event loop for the one GIL; each handover waits up to the switch interval, so a
50 ms encode showed up as 50 ms of loop lag and slow acknowledgements. `fork()` gives the
child a copy-on-write image of the state at one instant, between two kernel commands (it is
called on the writer's thread), so nothing needs to be captured, copied or sealed first: the
child encodes its copy on the other core and writes the bytes to a pipe (the snapshot, the
duplicate-check segments it encoded for the store, the digests it references); the parent
reads them on a worker thread (a blocking `read` releases the GIL) and hands them to the
journal, and marks the sealed generations stored once the journal's writer saved them.

States of one job:
    forked   -> the child encodes and writes; the parent reads the pipe to its end
    read     -> the child exited 0: the payload is complete -> saved by the journal's writer
    failed   -> the child exited otherwise (or was killed): no snapshot this time; the next
                one is due again at once, the journal still holds every event

Fork safety: the child touches nothing another thread might hold a lock on — no logging, no
database connection, no asyncio — only the encoder and `os.write`, then `os._exit` (no
atexit handlers, no buffered-file flushes, no inherited connection closed). Its memory cost is
the pages the encoder touches (reference counts), for the second or so it lives.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from typing import NamedTuple

import msgspec

from mcp_trading.domain.errors import TradingError
from mcp_trading.kernel import snapshot
from mcp_trading.kernel.dedupe import Generation
from mcp_trading.kernel.ports import Snapshot
from mcp_trading.kernel.state import KernelState

__all__ = ["CAN_FORK", "ForkedSnapshot", "SnapshotChildError", "collect", "fork_snapshot"]

#: Where `fork()` exists (Linux, macOS); elsewhere snapshots are encoded on a thread.
CAN_FORK = hasattr(os, "fork") and sys.platform != "win32"
_READ = 1 << 20
_WIRE = msgspec.msgpack.Decoder(tuple[bytes, list[tuple[bytes, bytes]], list[bytes]])


class SnapshotChildError(TradingError, RuntimeError):
    """The snapshot child did not finish; the snapshot is skipped (nothing is lost)."""


class ForkedSnapshot(NamedTuple):
    pid: int
    fd: int  # the read end of the child's pipe
    seq: int  # the state the child encodes includes every event up to this one
    sealed: tuple[Generation, ...]  # the sealed generations at the fork: the child's refs' order


def fork_snapshot(state: KernelState) -> ForkedSnapshot:
    """Fork a child that encodes `state` as it is now (call on the writer's thread)."""
    sealed = tuple(state.dedupe.sealed)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork() in a threaded process; the child is safe (module doc)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (its exit code is what the parent checks)
        _child(state, read_fd, write_fd)
    os.close(write_fd)
    return ForkedSnapshot(pid, read_fd, state.seq, sealed)


def _child(state: KernelState, read_fd: int, write_fd: int) -> None:  # pragma: no cover
    status = 1
    try:
        os.close(read_fd)
        gc.disable()  # a collection would touch (copy) pages for nothing: the child is brief
        taken = snapshot.dump(state)
        wire = msgspec.msgpack.encode((taken.payload, taken.segments, taken.refs))
        view = memoryview(wire)
        while view:
            view = view[os.write(write_fd, view):]
        status = 0
    except BaseException:  # the exit code says it; nothing else may run here
        pass
    finally:
        os._exit(status)


def collect(job: ForkedSnapshot) -> Snapshot:
    """Read the child's payload to the end and reap it (blocking: run on a worker thread)."""
    chunks: list[bytes] = []
    try:
        while chunk := os.read(job.fd, _READ):
            chunks.append(chunk)
    finally:
        os.close(job.fd)
        _, status = os.waitpid(job.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SnapshotChildError(f"the snapshot child (pid {job.pid}) exited with {code}; "
                                 "no snapshot was saved this time")
    payload, segments, refs = _WIRE.decode(b"".join(chunks))
    return Snapshot(job.seq, payload, tuple(segments), tuple(refs))
