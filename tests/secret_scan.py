"""The suite-wide secret scan: no response body or log record a test produces may hold an API
key, a JWT, a JWT signing secret or a registered password.

One place sees what the suite produces:

- every HTTP response read through httpx or httpx2 (`Client.send`, `AsyncClient.send`: the
  Starlette TestClient, the e2e harness's clients, the MCP client's transport), its body
  checked when the response is read whole (streamed ones are left unread, unchecked);
- every log record that reaches the root logger during the test (its formatted message),
  but those of the test side's own HTTP clients (`httpx`, `httpx2`, `httpcore`), which log the
  URLs the tests ask for;
- the e2e harness adds the platform's own log files and console, and the output of every
  CLI verb but `keys create` (which shows its key once, by design): `check_text` below.

What counts as a secret: anything shaped like one of our API keys (`mcpt_<id>_<secret>`) or a
JWT (`eyJ….eyJ….<signature>`), whether or not the test knows it; and the values the suite
registers: every secret a JWT is signed or verified with (`tokens._signing_key` sees each),
every key `KeyStore.create` returns (and its secret part alone), and what a test registers
with `remember(value)` (passwords of its throwaway servers). The platform's redaction output
(`mcpt_<id>_***`, `eyJ***`) is not a secret and does not match.

The test that leaked fails in its teardown, naming where the secret was seen (never the
secret itself). Why not every byte the suite prints: a test's own assertion messages and the
CLI's one-time key display are meant to hold them; what a client receives and what the
platform logs are what must not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["SecretScan", "check_text", "remember", "secret_scan", "secret_scan_session"]

_KEY = re.compile(r"mcpt_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{16,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
_MIN_KNOWN = 12  # shorter registered values are too common to search for
_CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore")


class SecretScan:
    """The known secrets and the leaks seen during the current test."""

    def __init__(self) -> None:
        self.session_known: set[str] = set()  # JWT secrets: they outlive a test
        self.known: set[str] = set()  # this test's keys and registered values
        self.leaks: list[str] = []

    def remember(self, value: str | None, *, session: bool = False) -> None:
        if value and len(value) >= _MIN_KNOWN:
            (self.session_known if session else self.known).add(value)

    def check(self, text: str, where: str) -> None:
        if not text:
            return
        kinds = []
        if _KEY.search(text):
            kinds.append("an API key")
        if _JWT.search(text):
            kinds.append("a JWT")
        if any(v in text for v in self.known | self.session_known):
            kinds.append("a registered secret")
        if kinds:
            self.leaks.append(f"{' and '.join(kinds)} in {where}")

    def reset(self) -> None:
        self.known.clear()
        self.leaks.clear()


_SCAN = SecretScan()


def remember(value: str | None) -> None:
    """Register a secret of the current test (a password, a token) for the scan."""
    _SCAN.remember(value)


def check_text(text: str, where: str) -> None:
    """Check text the test did not receive through httpx (a log file, CLI output)."""
    _SCAN.check(text, where)


class _Records(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in _CLIENT_LOGGERS:
            return
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: nothing printed either
            return
        _SCAN.check(message, f"a log record of {record.name} ({record.levelname})")


def _body(response: Any) -> str:
    try:
        content = response.content
    except Exception:  # streamed and not read (SSE, downloads): left to its reader
        return ""
    return content.decode("utf-8", "replace") if isinstance(content, bytes) else ""


def _where(response: Any) -> str:
    request = getattr(response, "request", None)
    url = getattr(request, "url", None)
    path = getattr(url, "path", "?")
    return f"the response to {getattr(request, 'method', '?')} {path} ({response.status_code})"


def _wrap_sync(send: Callable[..., Any]) -> Callable[..., Any]:
    def checked(self: Any, request: Any, **kwargs: Any) -> Any:
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _SCAN.check(_body(response), _where(response))
        return response

    return checked


def _wrap_async(send: Callable[..., Any]) -> Callable[..., Any]:
    async def checked(self: Any, request: Any, **kwargs: Any) -> Any:
        response = await send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _SCAN.check(_body(response), _where(response))
        return response

    return checked


@pytest.fixture(scope="session", autouse=True)
def secret_scan_session() -> Iterator[SecretScan]:
    """Install the scan's taps once: httpx/httpx2 send, the root logger, key and JWT creation."""
    import importlib

    from mcp_trading.security import keys as keys_module
    from mcp_trading.security import tokens as tokens_module

    patch = pytest.MonkeyPatch()
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        patch.setattr(module.Client, "send", _wrap_sync(module.Client.send))
        patch.setattr(module.AsyncClient, "send", _wrap_async(module.AsyncClient.send))
    signing_key = tokens_module._signing_key

    def seen_signing_key(secret: str) -> bytes:
        _SCAN.remember(secret, session=True)
        return signing_key(secret)

    patch.setattr(tokens_module, "_signing_key", seen_signing_key)
    create = keys_module.KeyStore.create

    def seen_create(self: Any, *args: Any, **kwargs: Any) -> Any:
        record, plaintext = create(self, *args, **kwargs)
        _SCAN.remember(plaintext)
        _SCAN.remember(plaintext.split("_", 2)[-1])
        return record, plaintext

    patch.setattr(keys_module.KeyStore, "create", seen_create)
    handler = _Records(level=0)
    logging.getLogger().addHandler(handler)
    try:
        yield _SCAN
    finally:
        logging.getLogger().removeHandler(handler)
        patch.undo()


@pytest.fixture(autouse=True)
def secret_scan(secret_scan_session: SecretScan) -> Iterator[SecretScan]:
    """Fail the test that leaked a secret into a response or a log record (module docstring)."""
    secret_scan_session.reset()
    yield secret_scan_session
    leaks = list(dict.fromkeys(secret_scan_session.leaks))
    secret_scan_session.reset()
    if leaks:
        pytest.fail("a secret leaked: " + "; ".join(leaks), pytrace=False)
