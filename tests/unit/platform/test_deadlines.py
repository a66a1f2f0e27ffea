"""One timer times out every acknowledgement wait of a loop: late ones fail, done ones go."""

from __future__ import annotations

import asyncio

import pytest

from mcp_trading.platform.deadlines import Deadlines


def test_a_wait_not_done_by_its_deadline_fails_and_done_ones_do_not() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        slow, quick, later = (loop.create_future() for _ in range(3))
        assert deadlines.add(slow, 0.05) and deadlines.add(quick, 0.05)
        assert deadlines.add(later, 0.3)
        loop.call_later(0.01, quick.set_result, 7)
        assert await quick == 7
        with pytest.raises(TimeoutError):
            await slow
        assert not later.done()  # its own deadline has not come
        later.set_result(1)
        await asyncio.sleep(0.35)
        assert len(deadlines) == 0  # nothing held past its deadline

    asyncio.run(scenario())


def test_a_shorter_timeout_behind_a_longer_one_is_left_to_the_caller() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        first, second = loop.create_future(), loop.create_future()
        assert deadlines.add(first, 5.0)
        assert not deadlines.add(second, 0.1)  # would expire before the queued one
        first.set_result(0)

    asyncio.run(scenario())


def test_a_resolved_future_is_not_touched_when_its_deadline_passes() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        future = loop.create_future()
        deadlines.add(future, 0.02)
        future.set_result(3)
        await asyncio.sleep(0.05)
        assert future.result() == 3

    asyncio.run(scenario())
