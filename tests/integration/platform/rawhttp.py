"""HTTP/1.1 over a bare socket, for tests that must control every byte a client sends."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "closed_within", "connect", "read_answer", "request"]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def head(method: str, path: str, port: int, *, host: str | None = None,
         headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket, timeout: float = 10.0) -> Answer:
    """One response: status line, headers and a Content-Length body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += chunk
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    while len(rest) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(status, headers, rest[:size])


def request(port: int, method: str, path: str, *, body: bytes = b"",
            headers: dict[str, str] | None = None, host: str | None = None) -> Answer:
    """One request on a fresh connection (Content-Length set when there is a body)."""
    headers = dict(headers or {})
    if body:
        headers.setdefault("Content-Length", str(len(body)))
    with connect(port) as sock:
        sock.sendall(head(method, path, port, host=host, headers=headers) + body)
        return read_answer(sock)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes, float]:
    """(whether the server closed the connection within `seconds`, what it sent, when)."""
    started = time.monotonic()
    received = b""
    while (left := seconds - (time.monotonic() - started)) > 0:
        sock.settimeout(min(0.2, left))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received, time.monotonic() - started
        if not chunk:
            return True, received, time.monotonic() - started
        received += chunk
    return False, received, time.monotonic() - started
