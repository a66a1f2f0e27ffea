"""The request guard and server limits, probed over raw sockets against the real platform.

The production profile answers a credential-less request 401, so a 413/415/400/421 there
shows the refusal came before authentication. The dev profile (credential-less loopback =
operator) shows that cross-site requests get neither the trust nor an effect.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.harness import RunningPlatform, make_platform
from tests.integration.platform.rawhttp import closed_within, connect, head, read_answer, request

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
MAX_CONNECTIONS = 40
JSON = {"Content-Type": "application/json"}
ORDER = b'{"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit", "limit_price": "1.00"}'


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    p = make_platform(tmp_path_factory.mktemp("guard-production"),
                      MCP_TRADING_PROFILE="production", MCP_TRADING_HOST="127.0.0.1",
                      JWT_SECRET=secrets.token_urlsafe(48),
                      MCP_TRADING_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
                      MCP_TRADING_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
                      MCP_TRADING_MAX_CONNECTIONS=str(MAX_CONNECTIONS))
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    p = make_platform(tmp_path_factory.mktemp("guard-dev"))
    p.start()
    p.wait_for(lambda: p.health("market-data").get("market_data_status") == "streaming")
    yield p
    p.stop()


def _logged(p: RunningPlatform) -> str:
    texts = [f.read_text(errors="replace") for f in Path(p.data_dir).rglob("*")
             if f.is_file() and (f.suffix in (".log", ".console") or "log" in f.parent.name)]
    return "\n".join(texts)


# --- bodies: size, content type, nesting; all before authentication -----------------------

@pytest.mark.parametrize(("service", "method", "path"), [
    ("risk", "PUT", "/limits/global"),
    ("trading-engine", "POST", "/orders"),  # the fast path
    ("trading-engine", "POST", "/mcp"),  # the MCP mount
])
def test_a_declared_200mb_body_is_refused_413_without_being_sent(
        production: RunningPlatform, service: str, method: str, path: str) -> None:
    port = production.ports[service]
    with connect(port) as sock:
        sock.sendall(head(method, path, port, headers={**JSON, "Content-Length": "200000000"}))
        started = time.monotonic()
        answer = read_answer(sock, timeout=5)  # not one byte of the body was sent
        assert time.monotonic() - started < 2
        assert answer.status == 413, answer.body
        assert answer.json()["code"] == "BODY_TOO_LARGE"
        assert answer.headers.get("connection") == "close"
        closed, _, _ = closed_within(sock, 2)
        assert closed


def test_a_chunked_body_is_counted_as_it_arrives_and_refused_past_the_limit(
        production: RunningPlatform) -> None:
    port = production.ports["risk"]
    chunk = b"[" + b"0," * 8000 + b"0]"  # 16 KiB of valid JSON text per chunk
    sent = 0
    with connect(port) as sock:
        sock.sendall(head("PUT", "/limits/global", port,
                          headers={**JSON, "Transfer-Encoding": "chunked"}))
        sock.settimeout(0.05)
        answer_bytes = b""
        while sent < 8 * 1024 * 1024:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            try:
                answer_bytes = sock.recv(65536)
            except TimeoutError:
                continue
            if answer_bytes:
                break
        assert answer_bytes.startswith(b"HTTP/1.1 413"), answer_bytes[:200]
    # refused soon after the 64 KiB default, long before the 8 MiB the client meant to send
    assert sent < 2 * 1024 * 1024


def test_the_batch_route_takes_a_larger_body_than_the_default(production: RunningPlatform) -> None:
    port = production.ports["trading-engine"]
    orders = b",".join([ORDER] * 2000)  # ~170 KB: over the default, under the batch limit
    batch = request(port, "POST", "/orders/batch", body=b'{"orders": [' + orders + b"]}",
                    headers=JSON)
    assert batch.status == 401  # past the guard; no credential, so authentication refuses it
    single = request(port, "POST", "/orders", body=b'{"orders": [' + orders + b"]}", headers=JSON)
    assert single.status == 413
    huge = request(port, "POST", "/orders/batch", headers={**JSON, "Content-Length": "5000000"})
    assert huge.status == 413


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_declared_json_is_refused_415(
        production: RunningPlatform, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = request(production.ports["trading-engine"], "POST", "/orders", body=ORDER,
                     headers=headers)
    assert answer.status == 415
    assert answer.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in answer.json()["message"]


def test_a_json_suffix_media_type_is_json(production: RunningPlatform) -> None:
    answer = request(production.ports["trading-engine"], "POST", "/orders", body=ORDER,
                     headers={"Content-Type": "application/vnd.example+json; charset=utf-8"})
    assert answer.status == 401  # accepted as JSON; then no credential


@pytest.mark.parametrize(("service", "method", "path"), [
    ("trading-engine", "POST", "/orders"),
    ("risk", "POST", "/check"),
    ("risk", "PUT", "/limits/global"),
    ("trading-engine", "POST", "/mcp"),
])
def test_json_nested_1000_deep_is_a_400_not_a_recursion_error(
        production: RunningPlatform, service: str, method: str, path: str) -> None:
    body = b'{"symbol": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    answer = request(production.ports[service], method, path, body=body, headers=JSON)
    assert answer.status == 400, answer.body
    assert answer.json()["code"] == "JSON_TOO_DEEP"
    # a string full of brackets is not nesting
    flat = request(production.ports[service], method, path,
                   body=b'{"symbol": "' + b"[" * 1000 + b'"}', headers=JSON)
    assert flat.status == 401
    assert "RecursionError" not in _logged(production)


# --- slow and idle clients: header and body deadlines, the connection limit ----------------

def test_headers_that_never_finish_are_dropped_within_the_header_timeout(
        production: RunningPlatform) -> None:
    port = production.ports["market-data"]
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: unfinished
        closed, sent, after = closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert closed and after < HEADER_TIMEOUT_S + 1.5
    assert sent.startswith(b"HTTP/1.1 408")


def test_a_slowloris_trickle_does_not_extend_the_header_deadline(
        production: RunningPlatform) -> None:
    port = production.ports["market-data"]
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        started = time.monotonic()
        dropped = False
        for i in range(40):  # one header byte every 0.1 s, forever
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            closed, _, _ = closed_within(sock, 0.1)
            if closed:
                dropped = True
                break
    assert dropped and time.monotonic() - started < HEADER_TIMEOUT_S + 1.5


def test_headers_larger_than_the_cap_are_refused_431(production: RunningPlatform) -> None:
    port = production.ports["market-data"]
    with connect(port) as sock:
        # 40 x 1 KiB header lines in one write (read whole, so the close is clean), no end
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + (b"X-Pad: " + b"a" * 1017 + b"\r\n") * 40)
        closed, sent, _ = closed_within(sock, HEADER_TIMEOUT_S / 2)
    assert closed and sent.startswith(b"HTTP/1.1 431"), sent[:100]


def test_a_body_that_stops_arriving_is_dropped_within_the_body_timeout(
        production: RunningPlatform) -> None:
    port = production.ports["risk"]
    with connect(port) as sock:
        sock.sendall(head("PUT", "/limits/global", port,
                          headers={**JSON, "Content-Length": "100"}) + b'{"max_')
        started = time.monotonic()
        answer = read_answer(sock, timeout=BODY_TIMEOUT_S + 3)
        assert answer.status == 408 and answer.json()["code"] == "BODY_TIMEOUT"
        assert time.monotonic() - started < BODY_TIMEOUT_S + 1.5
        closed, _, _ = closed_within(sock, 2)
        assert closed


def test_half_open_connections_are_all_dropped_within_seconds(production: RunningPlatform) -> None:
    port = production.ports["alerts"]
    socks = [connect(port) for _ in range(MAX_CONNECTIONS - 5)]
    try:
        for s in socks[::2]:
            s.sendall(b"POST /alerts/maintenance-start HTTP/1.1\r\nHost: 127.0.0")  # half a request
        time.sleep(HEADER_TIMEOUT_S + 1.0)
        still_open = [s for s in socks if not closed_within(s, 0.3)[0]]
        assert not still_open, f"{len(still_open)} of {len(socks)} half-open connections held"
    finally:
        for s in socks:
            s.close()
    assert request(port, "GET", "/health").status == 200


def _pending(sock: socket.socket) -> bytes | None:
    """What the server has sent so far (None: nothing yet, the connection is open)."""
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return None


def test_a_connection_beyond_the_limit_is_answered_503_at_once(production: RunningPlatform) -> None:
    port = production.ports["portfolio"]
    socks = [connect(port) for _ in range(MAX_CONNECTIONS + 5)]
    try:
        time.sleep(0.3)  # well within the header timeout: the first ones are simply open
        sent = [_pending(s) for s in socks]
    finally:
        for s in socks:
            s.close()
    refused = [i for i, data in enumerate(sent) if data is not None]
    assert refused == list(range(MAX_CONNECTIONS, MAX_CONNECTIONS + 5)), refused
    assert all((sent[i] or b"").startswith(b"HTTP/1.1 503") for i in refused)
    time.sleep(0.2)
    assert request(port, "GET", "/health").status == 200  # the limit frees up with the sockets


# --- Host: DNS rebinding ------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [("GET", "/health"), ("POST", "/mcp"),
                                              ("PUT", "/limits/global")])
def test_a_foreign_host_is_421_on_every_route(production: RunningPlatform, method: str,
                                                path: str) -> None:
    port = production.ports["risk"]
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}' if method != "GET" else b""
    answer = request(port, method, path, host=f"evil.example:{port}", body=body, headers=JSON)
    assert answer.status == 421
    assert answer.json()["code"] == "HOST_NOT_ALLOWED"
    assert "MCP_TRADING_ALLOWED_HOSTS" in answer.json()["message"]
    for name in ("localhost", "127.0.0.1", "[::1]"):
        assert request(port, "GET", "/health", host=f"{name}:{port}").status == 200


# --- Origin: no cross-site effect on the dev profile --------------------------------------

def _active(p: RunningPlatform) -> bool:
    return p.health("trading-engine")["trading_status"] == "active"


def _order_exists(p: RunningPlatform, client_order_id: str) -> bool:
    status = p.client("trading-engine").get(
        "/orders", params={"client_order_id": client_order_id}).status_code
    assert status in (200, 404)
    return status == 200


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # the platform's host, but not one of its ports
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
]


@pytest.mark.parametrize("signal", CROSS_SITE)
def test_a_cross_site_request_cannot_halt_order_or_cancel(dev: RunningPlatform,
                                                          signal: dict[str, str]) -> None:
    engine, orders = dev.ports["trading-engine"], dev.ports["orders"]
    resting = dev.client("trading-engine").post("/orders", json={
        "symbol": "SPY", "qty": 1, "side": "buy", "type": "limit", "limit_price": "1.00",
        "time_in_force": "day"})
    assert resting.status_code == 200  # the loopback trust itself still works
    resting_id = resting.json()["id"]
    coid = f"xsite-{uuid.uuid4().hex[:12]}"
    order = ORDER[:-1] + f', "client_order_id": "{coid}"}}'.encode()
    answers = [
        request(engine, "POST", "/emergency/halt", headers={**signal}),
        request(engine, "POST", "/emergency/halt", body=b'{"reason": "x"}',
                headers={**signal, **JSON}),
        request(engine, "POST", "/orders", body=order, headers={**signal, **JSON}),
        request(orders, "POST", "/orders/cancel-all-pending", headers={**signal}),
        request(engine, "DELETE", f"/orders/{resting_id}", headers={**signal}),
    ]
    assert [a.status for a in answers] == [403] * len(answers)
    assert all(a.json()["code"] == "CROSS_SITE_REFUSED" for a in answers)
    assert _active(dev)
    assert not _order_exists(dev, coid)
    assert dev.client("trading-engine").get(f"/orders/{resting_id}").json()["status"] in (
        "new", "accepted")


def test_a_cross_site_read_gets_no_loopback_trust(dev: RunningPlatform) -> None:
    engine = dev.ports["trading-engine"]
    assert request(engine, "GET", "/account").status == 200
    assert request(engine, "GET", "/account",
                   headers={"Origin": "https://evil.example"}).status == 401
    assert request(engine, "GET", "/account", headers={"Sec-Fetch-Site": "cross-site"}).status == 401


def test_the_platforms_own_origins_keep_loopback_trust(dev: RunningPlatform) -> None:
    engine, risk = dev.ports["trading-engine"], dev.ports["risk"]
    for origin in (f"http://127.0.0.1:{engine}", f"http://localhost:{risk}"):
        answer = request(engine, "GET", "/account",
                         headers={"Origin": origin, "Sec-Fetch-Site": "same-site"})
        assert answer.status == 200, (origin, answer.body)
    order = request(engine, "POST", "/orders", body=ORDER,
                    headers={**JSON, "Origin": f"http://127.0.0.1:{engine}"})
    assert order.status == 200, order.body


def test_no_response_carries_permissive_cors_headers(dev: RunningPlatform) -> None:
    engine = dev.ports["trading-engine"]
    for method in ("OPTIONS", "GET"):
        answer = request(engine, method, "/account", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert not [h for h in answer.headers if h.startswith("access-control-")]


def test_the_runbooks_bare_curl_post_still_halts(dev: RunningPlatform) -> None:
    port = dev.ports["trading-engine"]
    result = subprocess.run(["curl", "-s", "-X", "POST", f"http://localhost:{port}/emergency/halt"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert '"trading_status":"halted"' in result.stdout.replace(" ", ""), result.stdout
    assert not _active(dev)
    resumed = subprocess.run(["curl", "-s", "-X", "POST",
                              f"http://localhost:{port}/emergency/resume-trading"],
                             capture_output=True, text=True, timeout=30, check=False)
    assert _active(dev), resumed.stdout
