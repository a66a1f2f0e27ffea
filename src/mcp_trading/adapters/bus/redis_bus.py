"""The Redis bus: journaled streams with consumer groups, and latest-value topics, in Redis.

Key layout (under the bus prefix, "mcp-trading:" by default)::

    <prefix>stream:<stream>       a stream; entry fields {p: payload}
    <prefix>topic:<topic>:log     a latest-value topic's updates, capped (MAXLEN ~);
                                  entry fields {k: key, p: payload}
    <prefix>topic:<topic>:latest  a hash key -> current payload

Delivery is at least once: a command retried after Redis dropped the connection mid-reply
may have run already (a batch published twice), so consumers drop entries they have applied
(the journal's sequence number says which).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import redis

from mcp_trading.adapters.bus.connection import RedisOptions, connect, redact_url, redis_errors
from mcp_trading.adapters.bus.contract import LATEST_MAXLEN, MAX_BLOCK_MS, check_read, next_id
from mcp_trading.adapters.bus.ports import (
    DEFAULT_PREFIX,
    BusEntry,
    BusError,
    BusUnavailableError,
    LatestSnapshot,
    NoSuchGroupError,
)

__all__ = ["RedisBus"]

_PAYLOAD = b"p"
_KEY = b"k"

# One parsed stream entry as redis-py returns it (RESP2): (id, {field: value}); an entry
# trimmed away while still pending comes back with no fields.
_Raw = tuple[bytes, dict[bytes, bytes]]


class RedisBus:
    """An EventBus on a Redis server (6.2+: `claim_stale` and `trim` use XAUTOCLAIM, MINID).

    Connects lazily: constructing one does no I/O; `ping` checks the server.
    """

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX,
                 options: RedisOptions | None = None, max_block_ms: int = MAX_BLOCK_MS,
                 latest_maxlen: int = LATEST_MAXLEN) -> None:
        if not prefix:
            raise ValueError("prefix was empty; the bus's keys need one (e.g. 'mcp-trading:')")
        options = options or RedisOptions()
        self._url = url
        self._prefix = prefix
        self._max_block_ms = max_block_ms
        self._latest_maxlen = latest_maxlen
        self._redis = connect(url, options)
        # blocking reads wait on the server up to max_block_ms: their socket waits longer
        self._blocking = connect(url, options, extra_timeout_s=max_block_ms / 1000)
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisBus({redact_url(self._url)!r}, prefix={self._prefix!r})"

    def publish(self, stream: str, payloads: Sequence[bytes]) -> list[str]:
        with self._errors(f"publishing {len(payloads)} entries to stream {stream!r}"):
            if not payloads:
                return []
            if len(payloads) == 1:  # one command is atomic by itself
                entry_id = cast("bytes", self._redis.xadd(self._stream_key(stream),
                                                          {_PAYLOAD: payloads[0]}))
                return [entry_id.decode()]
            pipe = self._redis.pipeline(transaction=True)  # MULTI … EXEC: all or nothing
            for payload in payloads:
                pipe.xadd(self._stream_key(stream), {_PAYLOAD: payload})
            ids = cast("list[bytes]", pipe.execute())
        return [entry_id.decode() for entry_id in ids]

    def ensure_group(self, stream: str, group: str, *, start: str = "0") -> None:
        with self._errors(f"creating group {group!r} of stream {stream!r}"):
            try:
                self._redis.xgroup_create(self._stream_key(stream), group, id=start, mkstream=True)
            except redis.ResponseError as exc:
                if not str(exc).startswith("BUSYGROUP"):  # BUSYGROUP: it exists already
                    raise

    def read_group(self, stream: str, group: str, consumer: str, *, count: int = 500,
                   block_ms: int = 0) -> list[BusEntry]:
        check_read(count, block_ms, max_block_ms=self._max_block_ms)
        key = self._stream_key(stream)
        with self._errors(f"reading group {group!r} of stream {stream!r}", group=group):
            # "0": this consumer's pending entries; they come back until acked
            gone: list[str] = []
            pending = self._entries(self._redis.xreadgroup(group, consumer, {key: "0"}, count=count),
                                    gone)
            if gone:  # trimmed from the stream while pending: nothing is left to process
                self._redis.xack(key, group, *gone)
            if pending:
                return pending
            client = self._blocking if block_ms else self._redis
            raw = client.xreadgroup(group, consumer, {key: ">"}, count=count, block=block_ms or None)
            return self._entries(raw)

    def ack(self, stream: str, group: str, ids: Sequence[str]) -> None:
        with self._errors(f"acking {len(ids)} entries of group {group!r} on {stream!r}"):
            if ids:
                self._redis.xack(self._stream_key(stream), group, *ids)

    def claim_stale(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                    count: int = 500) -> list[BusEntry]:
        check_read(count, 0)
        key = self._stream_key(stream)
        claimed: list[BusEntry] = []
        cursor = "0-0"
        with self._errors(f"claiming stale entries of group {group!r} on {stream!r}", group=group):
            while len(claimed) < count:  # XAUTOCLAIM scans the pending list a page at a time
                reply = cast("list[Any]", self._redis.xautoclaim(
                    key, group, consumer, min_idle_ms, start_id=cursor, count=count - len(claimed)))
                claimed += self._entries([[key, reply[1]]])
                cursor = reply[0].decode()
                if cursor == "0-0":
                    break
        return claimed

    def trim(self, stream: str, *, keep_after_id: str) -> int:
        with self._errors(f"trimming stream {stream!r}"):
            return int(cast("int", self._redis.xtrim(
                self._stream_key(stream), minid=next_id(keep_after_id), approximate=False)))

    def publish_latest(self, topic: str, key: str, payload: bytes) -> None:
        self.publish_latest_many(topic, [(key, payload)])

    def publish_latest_many(self, topic: str, updates: Sequence[tuple[str, bytes]]) -> None:
        if not updates:
            return
        what = repr(updates[0][0]) if len(updates) == 1 else f"{len(updates)} updates"
        with self._errors(f"publishing {what} to topic {topic!r}"):
            log_key = self._topic_key(topic, "log")
            pipe = self._redis.pipeline(transaction=True)  # the hash and the log agree
            for key, payload in updates:
                pipe.xadd(log_key, {_KEY: key.encode(), _PAYLOAD: payload},
                          maxlen=self._latest_maxlen, approximate=True)
            pipe.hset(self._topic_key(topic, "latest"), mapping=dict(updates))
            pipe.execute()

    def latest(self, topic: str) -> dict[str, bytes]:
        return self.latest_snapshot(topic).values

    def latest_snapshot(self, topic: str) -> LatestSnapshot:
        with self._errors(f"reading the latest values of topic {topic!r}"):
            pipe = self._redis.pipeline(transaction=True)  # values and cursor from one instant
            pipe.xrevrange(self._topic_key(topic, "log"), count=1)
            pipe.hgetall(self._topic_key(topic, "latest"))
            last, values = cast("tuple[list[_Raw], dict[bytes, bytes]]", tuple(pipe.execute()))
        last_id = last[0][0].decode() if last else "0-0"
        return LatestSnapshot({k.decode(): v for k, v in values.items()}, last_id)

    def read_latest_stream(self, topic: str, after_id: str, *, count: int = 500,
                           block_ms: int = 0) -> list[BusEntry]:
        check_read(count, block_ms, max_block_ms=self._max_block_ms)
        with self._errors(f"following topic {topic!r}"):
            client = self._blocking if block_ms else self._redis
            raw = client.xread({self._topic_key(topic, "log"): after_id}, count=count,
                               block=block_ms or None)
            return self._entries(raw)

    def ping(self) -> None:
        with self._errors("answering PING"):
            self._redis.ping()

    def close(self) -> None:
        self._closed = True
        self._redis.close()
        self._blocking.close()

    def _stream_key(self, stream: str) -> str:
        return f"{self._prefix}stream:{stream}"

    def _topic_key(self, topic: str, part: str) -> str:
        return f"{self._prefix}topic:{topic}:{part}"

    def _entries(self, reply: object, gone: list[str] | None = None) -> list[BusEntry]:
        """BusEntries from an XREAD-shaped reply: [[key, [(id, fields), …]], …] or None.

        An entry trimmed away while pending has no fields: its id goes to `gone` instead.
        """
        entries: list[BusEntry] = []
        for _key, raws in cast("list[tuple[bytes, list[_Raw]]]", reply or []):
            for raw_id, fields in raws:
                if _PAYLOAD not in fields:
                    if gone is not None:
                        gone.append(raw_id.decode())
                    continue
                key = fields.get(_KEY)
                entries.append(BusEntry(raw_id.decode(), fields[_PAYLOAD],
                                        key.decode() if key is not None else None))
        return entries

    @contextmanager
    def _errors(self, doing: str, *, group: str | None = None) -> Iterator[None]:
        if self._closed:
            raise BusError("the bus is closed; open a new one with open_bus(url)")
        with redis_errors(self._url, doing, unavailable=BusUnavailableError, refused=BusError):
            try:
                yield
            except redis.ResponseError as exc:
                if group is not None and str(exc).startswith("NOGROUP"):
                    raise NoSuchGroupError(
                        f"consumer group {group!r} does not exist ({doing}); create it with "
                        "ensure_group first") from None
                raise
