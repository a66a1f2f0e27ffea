"""The quote stream's control replies over a real socket (uvicorn + a websockets client):
every reply arrives in order, or the client gets an explicit error and a close; never a drop."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from tests.integration.platform.test_market_data_api import close_platform, open_platform
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mcp_trading.services.market_data import rest as market_data
from mcp_trading.services.market_data.stream import CONTROL_LIMIT

BURST = 2000


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    platform = open_platform(tmp_path)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(market_data.build(platform), log_level="warning",
                                           lifespan="off", ws="websockets"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/ws/quotes"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        close_platform(platform)


def _send_in_background(ws: ClientConnection, messages: list[str]) -> threading.Thread:
    def send() -> None:
        try:
            for m in messages:
                ws.send(m)
        except ConnectionClosed:
            pass  # the server closed: what it answered says how far it got

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_burst_of_control_messages_gets_every_reply_in_order(url: str) -> None:
    with connect(url, additional_headers={"Authorization": "Bearer k1"}) as ws:
        # the burst goes out as fast as the socket takes it while this thread reads
        sender = _send_in_background(ws, [json.dumps({"action": "ping"})] * (BURST - 1)
                                     + ['{"action": "dance"}'])
        replies = [json.loads(ws.recv(timeout=30)) for _ in range(BURST)]
        sender.join(10)
    assert replies[:-1] == [{"type": "pong"}] * (BURST - 1)
    assert replies[-1]["code"] == "INVALID_ACTION"  # and in the order sent


def test_a_burst_sent_before_reading_gets_every_reply(url: str) -> None:
    client = RawClient(url)
    client.sock.settimeout(30)
    # error replies (~150 bytes) outgrow the socket buffers, so the server's writer blocks
    # while its reader still has messages: the moment replies used to be dropped
    burst = ['{"action": "ping"}' if i % 10 == 0 else '{"action": "dance"}' for i in range(BURST)]
    sender = threading.Thread(target=lambda: [client.send_text(m) for m in burst], daemon=True)
    sender.start()
    time.sleep(1.0)  # a client busy elsewhere for a moment
    replies = [json.loads(client.frame()[1]) for _ in range(BURST)]
    sender.join(10)
    client.sock.close()
    assert [r.get("code", r["type"]) for r in replies] == [
        "pong" if i % 10 == 0 else "INVALID_ACTION" for i in range(BURST)]


class RawClient:
    """A WebSocket client on a bare socket that reads only when told to (the websockets
    client reads the socket in a thread of its own, so it never stops reading)."""

    def __init__(self, url: str) -> None:
        host, port = url.split("//")[1].split("/", maxsplit=1)[0].split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
        self.sock.connect((host, int(port)))
        self.sock.sendall(("GET /ws/quotes HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                           "Authorization: Bearer k1\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def _exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the TCP connection without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self) -> tuple[int, bytes]:
        """The next text or close frame (the server's keepalive pings are skipped)."""
        while True:
            first, second = self._exactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exactly(8))[0]
            opcode, payload = first & 0x0F, self._exactly(length)
            if opcode not in (0x9, 0xA):
                return opcode, payload


def test_a_flood_from_a_client_that_does_not_read_is_answered_or_refused_explicitly(
        url: str) -> None:
    total = 60_000  # ~9 MB of error replies: more than the socket buffers usually take
    client = RawClient(url)
    client.sock.settimeout(30)
    sent = 0

    def flood() -> None:
        nonlocal sent
        try:
            for _ in range(total):
                client.send_text('{"action": "dance"}')
                sent += 1
        except OSError:
            pass  # the server closed

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    time.sleep(market_data._ROOM_WAIT_S + 2)  # read nothing meanwhile
    answers: list[dict[str, object]] = []
    code = None
    while len(answers) < total:
        opcode, payload = client.frame()
        if opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0]
            break
        answers.append(json.loads(payload))
    client.sock.close()
    sender.join(10)
    if code is None:  # the buffers took it all: then every reply arrived, in order
        assert len(answers) == total
        assert all(a["code"] == "INVALID_ACTION" for a in answers)
        return
    *replies, error = answers  # else: the replies so far, then an explicit error and a close
    assert all(r["code"] == "INVALID_ACTION" for r in replies)
    assert error["code"] == "TOO_MANY_MESSAGES" and error["answered"] == len(replies)
    assert code == 1013


class StalledSocket:
    """An ASGI WebSocket peer that sends `messages` and reads nothing until `read` is set."""

    def __init__(self, messages: int) -> None:
        self.incoming: list[dict[str, object]] = [{"type": "websocket.connect"}] + [
            {"type": "websocket.receive", "text": '{"action": "ping"}'}] * messages
        self.read = asyncio.Event()
        self.sent: list[dict[str, object]] = []
        self.closed: asyncio.Event = asyncio.Event()

    async def receive(self) -> dict[str, object]:
        if self.incoming:
            return self.incoming.pop(0)
        await self.closed.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(self, message: dict[str, object]) -> None:
        if message["type"] == "websocket.send":
            await self.read.wait()  # a client that does not read: the writer blocks
        self.sent.append(message)
        if message["type"] == "websocket.close":
            self.closed.set()


def test_a_full_reply_queue_ends_in_an_error_naming_the_unanswered_and_a_close(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_data, "_ROOM_WAIT_S", 0.2)
    platform = open_platform(tmp_path)
    app = market_data.build(platform)
    peer = StalledSocket(messages=5 * CONTROL_LIMIT)
    scope = {"type": "websocket", "path": "/ws/quotes", "raw_path": b"/ws/quotes",
             "query_string": b"", "headers": [(b"authorization", b"Bearer k1")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8001), "scheme": "ws",
             "subprotocols": [], "asgi": {"version": "3.0"}, "root_path": ""}

    async def run() -> None:
        serving = asyncio.create_task(app(scope, peer.receive, peer.send))
        await asyncio.sleep(0.5)  # past the room wait: the queue stayed full
        peer.read.set()  # the client reads again
        await asyncio.wait_for(serving, 10)

    try:
        asyncio.run(run())
    finally:
        close_platform(platform)
    texts = [json.loads(str(m["text"])) for m in peer.sent if m["type"] == "websocket.send"]
    *pongs, error = texts
    assert pongs == [{"type": "pong"}] * len(pongs)
    assert CONTROL_LIMIT <= len(pongs) < 5 * CONTROL_LIMIT  # every one queued was delivered
    assert error["code"] == "TOO_MANY_MESSAGES"
    assert error["answered"] == len(pongs)  # and the error says where the answers stop
    assert f"message {len(pongs) + 1} and later were not" in str(error["message"])
    [close] = [m for m in peer.sent if m["type"] == "websocket.close"]
    assert close["code"] == 1013 and close["reason"] == "TOO_MANY_MESSAGES"
