"""The in-memory bus: the EventBus contract inside one process, for tests and embedded mode."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mcp_trading.adapters.bus.contract import LATEST_MAXLEN, check_read, parse_id
from mcp_trading.adapters.bus.ports import BusEntry, BusError, LatestSnapshot, NoSuchGroupError

__all__ = ["InMemoryBus"]

Id = tuple[int, int]


@dataclass
class _Delivery:
    """An entry delivered to a consumer and not yet acked (Redis: a PEL record)."""

    consumer: str
    delivered_ms: float


@dataclass
class _Group:
    last_delivered: Id
    pending: dict[Id, _Delivery] = field(default_factory=dict)


@dataclass
class _Stream:
    ids: list[Id] = field(default_factory=list)  # ascending
    entries: dict[Id, BusEntry] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    last_id: Id = (0, 0)

    def add(self, entry_id: Id, entry: BusEntry) -> None:
        self.ids.append(entry_id)
        self.entries[entry_id] = entry
        self.last_id = entry_id

    def after(self, entry_id: Id, count: int) -> list[BusEntry]:
        start = bisect_right(self.ids, entry_id)
        return [self.entries[i] for i in self.ids[start:start + count]]

    def drop_through(self, entry_id: Id) -> int:
        end = bisect_right(self.ids, entry_id)
        for i in self.ids[:end]:
            del self.entries[i]
        del self.ids[:end]
        return end


class InMemoryBus:
    """An EventBus held in dicts; thread-safe, and blocking reads wake when entries arrive.

    `clock_ms` (monotonic milliseconds) times how long entries stay pending, for
    `claim_stale`; tests pass a manual one.
    """

    def __init__(self, *, clock_ms: Callable[[], float] | None = None,
                 latest_maxlen: int = LATEST_MAXLEN) -> None:
        self._clock_ms = clock_ms or (lambda: time.monotonic() * 1000)
        self._latest_maxlen = latest_maxlen
        self._streams: dict[str, _Stream] = {}
        self._topics: dict[str, _Stream] = {}
        self._latest: dict[str, dict[str, bytes]] = {}
        self._sequence = 0  # ids are "<n>-0", n counting across the bus
        self._changed = threading.Condition()
        self._closed = False

    def publish(self, stream: str, payloads: Sequence[bytes]) -> list[str]:
        with self._changed:
            self._check_open()
            target = self._streams.setdefault(stream, _Stream())
            ids = [self._add(target, BusEntry("", bytes(p))) for p in payloads]
            self._changed.notify_all()
            return ids

    def ensure_group(self, stream: str, group: str, *, start: str = "0") -> None:
        with self._changed:
            self._check_open()
            target = self._streams.setdefault(stream, _Stream())
            if group not in target.groups:
                first = target.last_id if start == "$" else parse_id(start)
                target.groups[group] = _Group(last_delivered=first)

    def read_group(self, stream: str, group: str, consumer: str, *, count: int = 500,
                   block_ms: int = 0) -> list[BusEntry]:
        check_read(count, block_ms)
        deadline = time.monotonic() + block_ms / 1000
        with self._changed:
            state = self._group(stream, group)
            pending = self._redeliver(stream, state, consumer, count)
            if pending:
                return pending
            while True:
                new = self._streams[stream].after(state.last_delivered, count)
                if new:
                    now = self._clock_ms()
                    for entry in new:
                        state.pending[parse_id(entry.id)] = _Delivery(consumer, now)
                    state.last_delivered = parse_id(new[-1].id)
                    return new
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._changed.wait(remaining)
                state = self._group(stream, group)  # closed or deleted while waiting?

    def ack(self, stream: str, group: str, ids: Sequence[str]) -> None:
        with self._changed:
            self._check_open()
            state = self._streams.get(stream, _Stream()).groups.get(group)
            if state is None:  # as XACK: nothing to acknowledge
                return
            for entry_id in ids:
                state.pending.pop(parse_id(entry_id), None)

    def claim_stale(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                    count: int = 500) -> list[BusEntry]:
        check_read(count, 0)
        with self._changed:
            state = self._group(stream, group)
            entries = self._streams[stream].entries
            now = self._clock_ms()
            claimed: list[BusEntry] = []
            for entry_id in sorted(state.pending):
                delivery = state.pending[entry_id]
                if entry_id not in entries:  # trimmed away: nothing left to process
                    del state.pending[entry_id]
                elif now - delivery.delivered_ms >= min_idle_ms and len(claimed) < count:
                    state.pending[entry_id] = _Delivery(consumer, now)
                    claimed.append(entries[entry_id])
            return claimed

    def trim(self, stream: str, *, keep_after_id: str) -> int:
        through = parse_id(keep_after_id)
        with self._changed:
            self._check_open()
            target = self._streams.get(stream)
            return target.drop_through(through) if target else 0

    def publish_latest(self, topic: str, key: str, payload: bytes) -> None:
        self.publish_latest_many(topic, [(key, payload)])

    def publish_latest_many(self, topic: str, updates: Sequence[tuple[str, bytes]]) -> None:
        with self._changed:
            self._check_open()
            if not updates:
                return
            target = self._topics.setdefault(topic, _Stream())
            latest = self._latest.setdefault(topic, {})
            for key, payload in updates:
                data = bytes(payload)
                self._add(target, BusEntry("", data, key))
                latest[key] = data
            if len(target.ids) > self._latest_maxlen:
                target.drop_through(target.ids[-self._latest_maxlen - 1])
            self._changed.notify_all()

    def latest(self, topic: str) -> dict[str, bytes]:
        return self.latest_snapshot(topic).values

    def latest_snapshot(self, topic: str) -> LatestSnapshot:
        with self._changed:
            self._check_open()
            last = self._topics.get(topic, _Stream()).last_id
            return LatestSnapshot(dict(self._latest.get(topic, {})), f"{last[0]}-{last[1]}")

    def read_latest_stream(self, topic: str, after_id: str, *, count: int = 500,
                           block_ms: int = 0) -> list[BusEntry]:
        check_read(count, block_ms)
        deadline = time.monotonic() + block_ms / 1000
        with self._changed:
            self._check_open()
            after = self._topics.get(topic, _Stream()).last_id if after_id == "$" else parse_id(after_id)
            while True:
                found = self._topics.get(topic, _Stream()).after(after, count)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._changed.wait(remaining)
                self._check_open()

    def ping(self) -> None:
        self._check_open()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()  # blocked readers wake and raise

    def _add(self, target: _Stream, entry: BusEntry) -> str:
        self._sequence += 1
        entry_id = f"{self._sequence}-0"
        target.add((self._sequence, 0), entry._replace(id=entry_id))
        return entry_id

    def _group(self, stream: str, group: str) -> _Group:
        self._check_open()
        state = self._streams.get(stream, _Stream()).groups.get(group)
        if state is None:
            raise NoSuchGroupError(f"consumer group {group!r} of stream {stream!r} does not "
                                   "exist; create it with ensure_group first")
        return state

    def _redeliver(self, stream: str, state: _Group, consumer: str, count: int) -> list[BusEntry]:
        entries = self._streams[stream].entries
        now = self._clock_ms()
        again: list[BusEntry] = []
        for entry_id in sorted(i for i, d in state.pending.items() if d.consumer == consumer):
            if entry_id not in entries:  # trimmed away: nothing left to process
                del state.pending[entry_id]
            elif len(again) < count:
                state.pending[entry_id].delivered_ms = now
                again.append(entries[entry_id])
        return again

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("the bus is closed; open a new one with open_bus(url)")
