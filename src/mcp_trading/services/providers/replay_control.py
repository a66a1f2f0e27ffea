"""Replay control on the providers service: `GET :8093/replay`, `POST /replay/step|pause|
resume|seek`, and the MCP tools `replay_status` and `replay_control` (operators).

The replay is the platform's feed when MCP_TRADING_FEED=replay (adapters/feeds/replay.py: its
states and rules). Refusals are 409 with what to do: the feed is not a replay (how to start
one); the replay runs in another process (distributed mode: the market-data process runs the
feed and control is not forwarded there); the action does not fit the state (a step while it
runs at N×, anything but a seek once it finished). A bad `n` or `date` is a 422.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mcp_trading.adapters.feeds.replay import ReplayControl, ReplayStatus
from mcp_trading.domain.errors import ConflictError, InvalidError
from mcp_trading.services.views import iso

__all__ = ["ACTIONS", "ReplayControls"]

ACTIONS = ("step", "pause", "resume", "seek")


class ReplayControls:
    """The controls over one platform's feed (`feed`: whatever the platform runs)."""

    def __init__(self, feed: Any, *, distributed: bool) -> None:
        self._feed = feed
        self._distributed = distributed

    def _replay(self) -> ReplayControl:
        feed = self._feed
        if all(callable(getattr(feed, m, None)) for m in ("status", "step", "pause", "resume",
                                                           "seek", "bars_left")):
            return feed  # type: ignore[no-any-return]
        name = getattr(feed, "name", "unknown")
        if name == "replay" and self._distributed:
            raise ConflictError(
                "the replay runs in the market-data process (distributed mode), not in this "
                "one, and its control is not forwarded there; run the platform embedded "
                "(`mcp-trading start`) to control a replay, or set MCP_TRADING_REPLAY_START/"
                "END/SPEED and restart market-data", code="REPLAY_ELSEWHERE")
        raise ConflictError(
            f"the live feed is {name}, not a replay; start one with MCP_TRADING_FEED=replay "
            "mcp-trading start (MCP_TRADING_REPLAY_SPEED=0 steps it by command)",
            code="NOT_A_REPLAY")

    def status(self) -> dict[str, Any]:
        """State, replay time, speed, symbols, sources, range and bars left."""
        replay = self._replay()
        return _view(replay.status(), replay.bars_left())

    def control(self, action: str, *, n: int | None = None, day: str | None = None
                ) -> dict[str, Any]:
        """One command (step, pause, resume, seek); the status after it."""
        replay = self._replay()
        if action == "step":
            granted = replay.step(1 if n is None else _whole(n))
            return {**_view(replay.status(), replay.bars_left()), "granted": granted}
        if action == "pause":
            status = replay.pause()
        elif action == "resume":
            status = replay.resume()
        elif action == "seek":
            status = replay.seek(_day(day))
        else:
            raise InvalidError(f"action: {action!r} is not one of {', '.join(ACTIONS)}",
                               code="INVALID_PARAMETER", field="action")
        return _view(status, replay.bars_left())


def _whole(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidError(f"n: {n!r} is not a whole number of steps; give e.g. 1",
                           code="INVALID_PARAMETER", field="n")
    return n


def _day(text: str | None) -> date:
    if text is None or not str(text).strip():
        raise InvalidError("date: missing; give the day to seek to, e.g. 2010-03-01",
                           code="INVALID_PARAMETER", field="date")
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidError(f"date: {text!r} is not a date; give YYYY-MM-DD, e.g. 2010-03-01",
                           code="INVALID_PARAMETER", field="date") from None


def _view(s: ReplayStatus, bars_left: dict[str, int]) -> dict[str, Any]:
    return {
        "state": s.state.value, "speed": s.speed, "stepped": s.speed == 0,
        "timeframe": s.timeframe, "replay_time": iso(s.replay_ns),
        "range": {"first": iso(s.first_ns), "last": iso(s.last_ns)},
        "symbols": sorted(s.sources), "sources": dict(s.sources),
        "steps_done": s.steps_done, "steps_total": s.steps_total,
        "steps_left": s.steps_total - s.steps_done, "pending_steps": s.pending_steps,
        "bars_left": bars_left,
    }
