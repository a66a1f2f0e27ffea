"""The request guard's rules, in process: nesting, media types, sites, and the ASGI flow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pydantic import ValidationError
from starlette.requests import Request

from mcp_trading.config import Settings
from mcp_trading.faces.rest.bodies import is_json_media_type, json_too_deep
from mcp_trading.faces.rest.guard import Guard
from mcp_trading.faces.rest.site import SITE_KEY, SitePolicy, is_cross_site

# --- nesting -------------------------------------------------------------------------------


def _depth(value: Any) -> int:
    """The reference: nesting depth of a decoded value, iteratively."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (
                item.values() if isinstance(item, dict) else item))
    return deepest


# strings full of the characters that matter: brackets, quotes, backslashes
_tricky = st.text(alphabet='[]{}"\\ab', max_size=8)
_json = st.recursive(st.none() | st.integers() | _tricky,
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_tricky, inner, max_size=3), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(value=_json, limit=st.integers(1, 6), indent=st.sampled_from([None, 1]))
def test_nesting_check_agrees_with_the_decoded_depth(value: Any, limit: int,
                                                     indent: int | None) -> None:
    text = json.dumps(value, indent=indent).encode()
    assert json_too_deep(text, limit) == (_depth(value) > limit)


@pytest.mark.parametrize(("body", "deep"), [
    (b"[" * 33 + b"]" * 33, True),
    (b"[" * 32 + b"]" * 32, False),
    (b"[" * 100_000, True),  # unclosed: the decoder would recurse before seeing the end
    (b'{"a": "' + b"[" * 1000 + b'"}', False),  # brackets inside a string are text
    (b'{"a": "\\"' + b"[" * 1000 + b'"}', False),  # ... after an escaped quote too
    (b'{"a": "\\\\"' + b", [" * 40 + b"]" * 40 + b"}", True),  # an escaped backslash ends it
    (b"[" + b'"]",[' * 40 + b"]" * 41, True),  # closing brackets hidden in strings
    (b"[" + b"[]," * 20_000 + b"[]]", False),  # wide, not deep
])
def test_nesting_check_cases(body: bytes, deep: bool) -> None:
    assert json_too_deep(body) == deep


@pytest.mark.parametrize(("content_type", "is_json"), [
    ("application/json", True), ("Application/JSON; charset=utf-8", True),
    ("application/merge-patch+json", True), ("text/plain", False),
    ("application/x-www-form-urlencoded", False), ("text/json", False), (None, False),
    ("application/jsonx", False), ("multipart/form-data; boundary=+json", False),
])
def test_json_media_types(content_type: str | None, is_json: bool) -> None:
    assert is_json_media_type(content_type) == is_json


# --- sites ---------------------------------------------------------------------------------


def _policy(**settings: Any) -> SitePolicy:
    return SitePolicy.from_settings(Settings(**settings))


def test_default_hosts_are_loopback_and_the_bind_address() -> None:
    policy = _policy(host="192.168.1.5")
    for host in ("localhost:8010", "127.0.0.1", "[::1]:8010", "LOCALHOST:1", "192.168.1.5:8010"):
        assert policy.host_allowed(host), host
    for host in ("evil.example", "evil.example:8010", "127.0.0.1.evil.example", "", None,
                 "localhost:notaport", "[::1", "localhost@evil.example"):
        assert not policy.host_allowed(host), host


def test_a_wildcard_bind_adds_no_host_and_service_urls_and_settings_add_theirs() -> None:
    policy = _policy(profile="production",
                     service_urls={"trading-engine": "http://10.0.0.5:9010",
                                   "risk": "https://[fd00::7]"},
                     allowed_hosts="trading.example.com, Other.Example")
    assert "0.0.0.0" not in policy.hosts
    for host in ("10.0.0.5:9010", "[fd00::7]", "trading.example.com", "other.example:8443"):
        assert policy.host_allowed(host), host
    assert {9010, 443, 8010} <= policy.ports


@pytest.mark.parametrize(("origin", "site"), [
    ("http://127.0.0.1:8010", "same"),  # this very service
    ("http://localhost:8011", "same"),  # another service of the platform
    ("http://[::1]:8100", "same"),
    ("http://127.0.0.1:9999", "foreign"),  # the platform's host, another port: not ours
    ("https://evil.example", "foreign"),
    ("null", "foreign"),
    ("http://127.0.0.1:8010/path", "foreign"),
    ("https://dash.example.com", "listed"),
    ("HTTPS://DASH.EXAMPLE.COM", "listed"),
])
def test_origins_are_same_site_listed_or_foreign(origin: str, site: str) -> None:
    policy = _policy(allowed_origins="https://dash.example.com/")
    assert policy.site_of(origin, "127.0.0.1:8010", "http") == site


def test_an_origin_equal_to_the_host_is_same_site_on_any_port() -> None:
    policy = _policy(port_orders=0)  # a picked port is not in the settings
    assert policy.site_of("http://127.0.0.1:45123", "127.0.0.1:45123", "http") == "same"
    assert policy.site_of("https://127.0.0.1:45123", "127.0.0.1:45123", "http") == "foreign"


@pytest.mark.parametrize(("value", "problem"), [
    ("https://trading.example.com", "no scheme"), ("trading.example.com:8443", "no scheme"),
    ('["a", 1]', "list of strings"), ("[oops", "JSON array"),
])
def test_bad_allowed_hosts_are_refused_with_a_reason(value: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings(allowed_hosts=value)


def test_bad_allowed_origins_are_refused_with_a_reason() -> None:
    with pytest.raises(ValidationError, match=r"scheme://host\[:port\]"):
        Settings(allowed_origins="dash.example.com")


def test_the_mcp_sdk_check_accepts_exactly_our_hosts_and_origins() -> None:
    policy = _policy(allowed_hosts="trading.example.com")
    sdk = TransportSecurityMiddleware(TransportSecuritySettings(
        allowed_hosts=policy.mcp_hosts(), allowed_origins=policy.mcp_origins()))

    def status(host: str, origin: str | None = None) -> int | None:
        headers = [(b"host", host.encode()), (b"content-type", b"application/json")]
        if origin:
            headers.append((b"origin", origin.encode()))
        request = Request({"type": "http", "method": "POST", "path": "/mcp", "headers": headers})
        answer = asyncio.run(sdk.validate_request(request, is_post=True))
        return None if answer is None else answer.status_code

    assert status("127.0.0.1:8010") is None
    assert status("trading.example.com") is None
    assert status("localhost:8010", "http://localhost:8012") is None
    assert status("evil.example:8010") == 421
    assert status("127.0.0.1:8010", "https://evil.example") == 403
    assert status("127.0.0.1:8010", "http://127.0.0.1:9999") == 403


def test_without_the_guards_verdict_any_origin_counts_as_cross_site() -> None:
    assert is_cross_site({"headers": [(b"origin", b"http://127.0.0.1:8010")]})
    assert is_cross_site({"headers": [(b"sec-fetch-site", b"cross-site")]})
    assert is_cross_site({"headers": [(b"sec-fetch-site", b"same-site")]})
    assert not is_cross_site({"headers": [(b"sec-fetch-site", b"same-origin")]})
    assert not is_cross_site({"headers": [(b"sec-fetch-site", b"none")]})
    assert not is_cross_site({SITE_KEY: "same", "headers": [(b"origin", b"x")]})
    assert is_cross_site({SITE_KEY: "listed", "headers": []})


# --- the ASGI flow -------------------------------------------------------------------------


class _App:
    """Records what reached it, reading the body as a real app would."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((scope, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(guard: Guard, method: str, path: str, headers: dict[str, str],
         chunks: list[bytes]) -> tuple[int, dict[str, str], bytes, int]:
    """(status, headers, body, chunks the guard read)."""
    sent: list[dict[str, Any]] = []
    pending: Iterator[bytes] = iter(chunks)
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(pending, None)
        if chunk is None:
            await asyncio.sleep(3600)
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(guard(scope, receive, send))
    start = sent[0]
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer_headers, sent[1]["body"], read


@pytest.fixture
def app() -> _App:
    return _App()


def _guard(app: _App, **kwargs: Any) -> Guard:
    return Guard(app, policy=_policy(), max_body=1024, limits={("POST", "/big"): 4096}, **kwargs)


HOST = {"Host": "127.0.0.1:8010"}
JSON = {**HOST, "Content-Type": "application/json"}


def test_a_passing_body_reaches_the_app_whole_in_one_message(app: _App) -> None:
    status, _, _, read = _run(_guard(app), "POST", "/orders", {**JSON, "Transfer-Encoding":
                              "chunked"}, [b'{"a":', b" 1}"])
    assert status == 200 and read == 2
    scope, body = app.calls[0]
    assert body == b'{"a": 1}' and scope[SITE_KEY] == "same"


def test_chunks_are_counted_and_refused_before_the_rest_is_read(app: _App) -> None:
    chunks = [b"[" + b"0," * 200 + b"0]"] * 50  # 403 bytes each, 20 KB in all
    status, headers, body, read = _run(_guard(app), "POST", "/orders",
                                       {**JSON, "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413 and headers["connection"] == "close"
    assert read == 3  # the third chunk crossed 1,024 bytes; nothing more was read
    assert b"at most 1024 bytes" in body and not app.calls


def test_a_route_may_declare_a_larger_limit(app: _App) -> None:
    body = b'["' + b"x" * 3000 + b'"]'
    assert _run(_guard(app), "POST", "/big", {**JSON, "Content-Length": str(len(body))},
                [body])[0] == 200
    assert _run(_guard(app), "POST", "/orders", {**JSON, "Content-Length": str(len(body))},
                [body])[0] == 413


def test_an_empty_body_needs_no_content_type(app: _App) -> None:
    assert _run(_guard(app), "POST", "/emergency/halt", HOST, [b""])[0] == 200
    assert _run(_guard(app), "POST", "/emergency/halt", {**HOST, "Content-Length": "0",
                                                         "Content-Type": "text/plain"},
                [b""])[0] == 200
    # chunked and empty: read, found empty, let through
    assert _run(_guard(app), "POST", "/emergency/halt", {**HOST, "Transfer-Encoding": "chunked"},
                [b""])[0] == 200


def test_a_chunked_body_without_json_type_is_415_once_read(app: _App) -> None:
    status, _, body, _ = _run(_guard(app), "POST", "/orders",
                              {**HOST, "Transfer-Encoding": "chunked"}, [b"{}"])
    assert status == 415 and b"application/json" in body and not app.calls


@pytest.mark.parametrize("header", ["Host", "Origin", "Content-Length"])
def test_a_repeated_header_the_guard_reads_is_400(app: _App, header: str) -> None:
    guard = _guard(app)
    raw = [(b"host", b"127.0.0.1:8010"), (header.lower().encode(), b"1"),
           (header.lower().encode(), b"1")]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(guard({"type": "http", "method": "GET", "path": "/", "headers": raw},
                      receive, send))
    assert sent[0]["status"] == 400 and not app.calls


@pytest.mark.parametrize(("headers", "site"), [
    ({"Origin": "https://evil.example"}, "foreign"),
    ({"Sec-Fetch-Site": "cross-site"}, "foreign"),
    ({"Sec-Fetch-Site": "same-site"}, "foreign"),  # no Origin: a page on another port
    ({"Sec-Fetch-Site": "same-origin"}, "same"),
    ({"Sec-Fetch-Site": "none"}, "same"),  # typed into the address bar
    ({"Origin": "http://localhost:8011", "Sec-Fetch-Site": "same-site"}, "same"),
])
def test_a_read_passes_with_the_sites_verdict(app: _App, headers: dict[str, str],
                                              site: str) -> None:
    status, _, _, _ = _run(_guard(app), "GET", "/account", {**HOST, **headers}, [b""])
    assert status == 200 and app.calls[0][0][SITE_KEY] == site


def test_a_refused_websocket_handshake_is_closed_before_accept(app: _App) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for headers in ([(b"host", b"evil.example")],
                    [(b"host", b"127.0.0.1:8001"), (b"origin", b"https://evil.example")]):
        sent.clear()
        asyncio.run(_guard(app)({"type": "websocket", "path": "/ws/quotes", "headers": headers},
                                receive, send))
        assert sent == [{"type": "websocket.close", "code": 1008}]
    assert not app.calls
