"""The lifecycle log's writer process (platform/lifecycle_log.py): frames from stdin, lines
appended to the log file.

    python -m mcp_trading.platform.lifecycle_writer PATH SERVICE json|console

    reading    a frame at a time from stdin (lifecycle_log.FRAME): b"S" a journal segment,
               b"O" the kernel's working orders at start (JSON)
    writing    each segment's lines in one append; before it, the file is reopened when it
               was moved or replaced (rotation: the parent renames it, or logrotate copies
               and truncates it; appends go on at the new end either way)
    done       stdin closed (the parent stops, or died): flush and exit 0

Ctrl-C in a terminal reaches the whole process group: ignored here, the parent ends this
process by closing the pipe once it has sent everything. SIGHUP reopens the file. It runs
at a lower CPU priority (nice 10) than the services.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from mcp_trading.domain.events import EVENT_TYPES
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.platform.lifecycle_log import FRAME, Book, Known, render_event
from mcp_trading.security.redact import redact

__all__ = ["LineFile", "main", "run"]

_LOGGED = frozenset(kind for kind, cls in EVENT_TYPES.items()
                    if cls.__name__ not in ("OrderRouted", "OrderTrailMoved", "TradingDayStarted",
                                            "EquitySnapshotted"))


class LineFile:
    """Appends to a path, reopening it when it was moved or replaced (or on request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reopen = False
        self._fh = self._open()

    def _open(self) -> BinaryIO:
        return self.path.open("ab")

    def write(self, text: str) -> None:
        try:
            moved = os.stat(self.path).st_ino != os.fstat(self._fh.fileno()).st_ino
        except FileNotFoundError:
            moved = True
        if moved or self.reopen:
            self.reopen = False
            self._fh.close()
            self._fh = self._open()
        self._fh.write(text.encode("utf-8"))
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _load_open_orders(book: Book, payload: bytes) -> None:
    for row in json.loads(payload):
        r = row["request"]  # what the lines name, as the kernel holds it (not re-validated)
        request = OrderRequest(r["symbol"], Decimal(r["qty"]), OrderSide(r["side"]),
                               OrderType(r["type"]), TimeInForce(r["time_in_force"]),
                               client_order_id=r["client_order_id"])
        known = book.open[row["order_id"]] = Known(row["account"], request, row["attribution"])
        known.filled = Decimal(row["filled"])


def _lines(payload: bytes, book: Book, *, ts: float, service: str, json_lines: bool) -> str:
    lines = []
    for seq, event in codec.events_of_kinds([JournalRecord(0, codec.SEGMENT, 0, payload)], 0,
                                            _LOGGED):
        if event is not None:
            line = render_event(event, book, ts=ts, seq=seq, service=service,
                                json_lines=json_lines)
            if line is not None:
                lines.append(line)
    return redact("\n".join(lines)) + "\n" if lines else ""


def run(stream: BinaryIO, out: LineFile, *, service: str, json_lines: bool) -> int:
    """Frames from `stream` to `out` until end of input; the number of segments written."""
    book, segments = Book(), 0
    while (header := _read_exact(stream, FRAME.size)) is not None:
        kind, ts, size = FRAME.unpack(header)
        payload = _read_exact(stream, size)
        if payload is None:
            break
        try:
            if kind == b"O":
                _load_open_orders(book, payload)
                continue
            text = _lines(payload, book, ts=ts, service=service, json_lines=json_lines)
        except Exception as exc:  # one bad frame costs its lines, never the writer
            print(f"lifecycle writer: a frame could not be rendered ({type(exc).__name__}: "
                  f"{exc}); its lines are skipped", file=sys.stderr)
            continue
        if text:
            out.write(text)
        segments += 1
    return segments


def main(argv: list[str] | None = None) -> int:
    path, service, fmt = (sys.argv[1:] if argv is None else argv)[:3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # behind the services on a busy host: the pipe and the parent's queue hold what waits
    with contextlib.suppress(OSError):
        os.nice(10)
    out = LineFile(Path(path))
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: setattr(out, "reopen", True))
    try:
        run(sys.stdin.buffer, out, service=service, json_lines=fmt == "json")
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
