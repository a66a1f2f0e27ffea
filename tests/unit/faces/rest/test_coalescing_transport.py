"""A response's head and body leave in one write; a head alone still leaves, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp_trading.faces.rest.protocol import _CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


def _run(steps: Any) -> _Recorder:
    recorder = _Recorder()

    async def scenario() -> None:
        transport = _CoalescingTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        await steps(transport)

    asyncio.run(scenario())
    return recorder


def test_head_and_body_are_one_write() -> None:
    async def steps(t: _CoalescingTransport) -> None:
        t.write(HEAD)
        t.write(b"{}")
        await asyncio.sleep(0)

    assert _run(steps).writes == [HEAD + b"{}"]


def test_a_head_without_a_body_yet_leaves_at_the_next_turn_and_order_is_kept() -> None:
    async def steps(t: _CoalescingTransport) -> None:
        t.write(HEAD)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        t.write(b"chunk")

    assert _run(steps).writes == [HEAD, b"chunk"]


def test_close_sends_a_held_head_first_and_other_bytes_pass_at_once() -> None:
    async def steps(t: _CoalescingTransport) -> None:
        t.write(b"\x81\x02hi")  # a WebSocket frame: not held
        t.write(HEAD)
        t.close()
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the transport's

    recorder = _run(steps)
    assert recorder.writes == [b"\x81\x02hi", HEAD] and recorder.closed
