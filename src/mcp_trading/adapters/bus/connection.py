"""Redis connections shared by the bus and the cache: timeouts, reconnects, redacted errors.

A service outlives Redis restarts: each command retries connection errors a few times with
backoff on a fresh connection, and when Redis stays down the caller gets an "unavailable"
error naming the server with its password redacted, never a redis-py exception (whose chain
or message could carry the URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.credentials import CredentialProvider
from redis.retry import Retry

__all__ = ["REDIS_SCHEMES", "RedisOptions", "connect", "glob_escape", "redact_url", "redis_errors"]

REDIS_SCHEMES = ("redis://", "rediss://")

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_QUERY_SECRET = re.compile(r"((?:^|[?&])password=)[^&#]*", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class RedisOptions:
    """How a Redis client waits, checks and retries."""

    socket_timeout_s: float = 5.0  # a reply slower than this is a dead connection
    connect_timeout_s: float = 2.0
    health_check_interval_s: int = 15  # ping a connection idle this long before reusing it
    retries: int = 3  # per command, on connection errors and timeouts
    backoff_base_s: float = 0.025  # sleeps double from this, up to the cap
    backoff_cap_s: float = 0.5
    #: () -> (user, password) for each new connection, or None for the URL's own; the
    #: platform passes the secrets file's Redis login (security/logins.py), so a rotated
    #: password is used by the next connection without a restart
    credentials: Callable[[], tuple[str | None, str] | None] | None = None


class _Login(CredentialProvider):
    """Asks `credentials` at every new connection; falls back to the URL's login."""

    def __init__(self, credentials: Callable[[], tuple[str | None, str] | None],
                 user: str | None, password: str | None) -> None:
        self._credentials, self._user, self._password = credentials, user, password

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        login = self._credentials()
        user, password = login if login is not None else (self._user, self._password or "")
        # always the two-argument AUTH (Redis >= 6, which the bus's XAUTOCLAIM needs anyway):
        # a passwordless `default` user accepts it, where a bare `AUTH ""` is an error
        return (user or "default", password)


def _split_login(url: str) -> tuple[str, str | None, str | None]:
    """(the URL without user and password, the user, the password)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None, None
    user, colon, password = userinfo.partition(":")
    return (urlunsplit(parts._replace(netloc=host)), unquote(user) or None,
            unquote(password) if colon else None)


def redact_url(url: str) -> str:
    """The URL with its credentials replaced by "***", fit for a log line or an error."""
    url = _USERINFO.sub(r"\1***@", url, count=1)
    return _QUERY_SECRET.sub(r"\1***", url)


def _secrets(url: str) -> list[str]:
    """The credentials a URL holds, to scrub from messages that might echo them."""
    found: list[str] = []
    match = _USERINFO.match(url)
    if match:
        userinfo = url[len(match.group(1)):match.end() - 1]
        found += [part for part in userinfo.split(":") if part]
        found += [unquote(part) for part in userinfo.split(":") if part]
    try:
        query = urlsplit(url).query
    except ValueError:  # an unparseable URL: only the userinfo can be scrubbed
        query = ""
    found += [value for name, value in parse_qsl(query) if name.lower() == "password" and value]
    return sorted(set(found), key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return " ".join(text.split())


def connect(url: str, options: RedisOptions, *, extra_timeout_s: float = 0.0) -> redis.Redis:
    """A pooled client for `url` (no I/O yet: it connects on first use).

    extra_timeout_s lengthens the socket timeout for clients that issue blocking reads, so a
    read blocked on the server for its full time is not mistaken for a dead connection.
    """
    retry = Retry(ExponentialBackoff(cap=options.backoff_cap_s, base=options.backoff_base_s),
                  options.retries)
    extra: dict[str, object] = {}
    if options.credentials is not None:
        url, user, password = _split_login(url)  # redis-py takes a provider or a URL login
        extra["credential_provider"] = _Login(options.credentials, user, password)
    return redis.Redis.from_url(
        url,
        **extra,
        socket_timeout=options.socket_timeout_s + extra_timeout_s,
        socket_connect_timeout=options.connect_timeout_s,
        health_check_interval=options.health_check_interval_s,
        retry=retry,
        # the builtin ConnectionError (refused, reset) is what a restarting server gives a
        # new connection; redis-py retries only its own errors unless told
        retry_on_error=[redis.ConnectionError, redis.TimeoutError, ConnectionError],
    )


@contextmanager
def redis_errors(url: str, doing: str, *, unavailable: type[Exception],
                 refused: type[Exception]) -> Iterator[None]:
    """Turn redis-py errors into `unavailable` / `refused`, with the URL's secrets redacted."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        reason = _scrub(f"{type(exc).__name__}: {exc}", url)
        raise unavailable(
            f"Redis at {redact_url(url)} is unreachable while {doing} ({reason}); check that "
            "the server is running and the URL (host, port, password) is right") from None
    except redis.RedisError as exc:
        reason = _scrub(f"{type(exc).__name__}: {exc}", url)
        raise refused(f"Redis at {redact_url(url)} refused {doing}: {reason}") from None


def glob_escape(text: str) -> str:
    """`text` with Redis glob metacharacters escaped, so MATCH takes it literally."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)
