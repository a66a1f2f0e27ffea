"""Hostile numbers at every numeric input of every REST route and MCP tool (hypothesis).

Every target `hostile_world` finds (OpenAPI bodies and parameters, MCP input schemas) is sent
the values the issue named (`"1e-999999999"`, `1e400`, `1e308`, `"1E+999999999999999999"`, a
5,000-digit number, NaN, Infinity, `"1_000"`, `" 1 "`, negative zero, ...) and then values
hypothesis draws: numbers and numeric strings with huge and tiny exponents, many digits and
junk characters, as raw JSON text. For each request:

- never a 5xx, and over MCP never a tool error that is neither a refusal (code and message)
  nor the SDK's argument validation error (an exception escaping a tool is neither);
- no response larger than MAX_RESPONSE;
- every order the request created (accepted or refused: both are journaled) reads back, as
  itself, in its history and in a listing, and each of those answers is small too.

At the end every argument-free read (REST GET routes, read-only MCP tools) answers small, and
the platform is reopened from its journal and every order created reads back again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.property.hostile_world import (
    MAX_RESPONSE,
    Reply,
    Target,
    World,
    body_text,
    mcp_targets,
    query_text,
    rest_targets,
    tool_arguments,
)

from mcp_trading.domain.orders import OrderStatus

#: hypothesis examples per target, after the named values (~65 targets); more for a deep run
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "8"))
MAX_STRING = 4096  # characters of any one string in an answer (a decimal is at most ~50)
MAX_ITEM = 4096  # bytes per item of a listing (an order view is ~1 KB)
_BIG = "1" + "0" * 4999
#: the values the issue named, and their relatives, as raw JSON text
NAMED = [
    '"1e-999999999"', "1e-999999999", '"1e400"', "1e400", "1e308", "1.7976931348623157e308",
    '"1E+999999999999999999"', "1E+999999999999999999", _BIG, f'"{_BIG}"', "5e-324",
    "-0", '"-0"', "-0.0", "0", '"0E-999999999"', '"NaN"', "NaN", '"Infinity"', "Infinity",
    '"-Infinity"', '"sNaN"', '"1_000"', '" 1 "', '"0x10"', '""', '"."', '"1e"', '"\\uff11"',
    '"\\u0661"', "true", "null", "[]", "{}", '"100.005"', "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", '"0.000000001"', '"1000000000"',
    '"1000000000.000000001"', '"123456789.123456789"', '"1.0000000000000000000000000000"',
    "1", '"2"', "2.5",
]
_JUNK = "0123456789.eE+-_ xX,"


def _decimal_text() -> st.SearchStrategy[str]:
    mantissa = st.from_regex(r"[+-]?[0-9]{1,30}(\.[0-9]{1,30})?", fullmatch=True)
    exponent = st.one_of(st.none(), st.integers(-10**19, 10**19), st.integers(-40, 40))
    return st.builds(lambda m, e: m if e is None else f"{m}e{e}", mantissa, exponent)


def hostile() -> st.SearchStrategy[str]:
    """Raw JSON text: numbers (valid JSON or not) and strings that look like numbers."""
    numbers = st.one_of(
        st.integers().map(str),
        st.integers(1, 6000).map(lambda n: "9" * n),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        _decimal_text().map(lambda t: t.lstrip("+")),
    )
    strings = st.one_of(_decimal_text(), st.integers(1, 6000).map(lambda n: "1" * n),
                        st.text(alphabet=_JUNK, max_size=60),
                        st.floats().map(repr)).map(json.dumps)
    return st.one_of(numbers, strings, st.sampled_from(NAMED))


# ---- one attack -----------------------------------------------------------------------------
def _orders_in(data: Any) -> Iterator[str]:
    """Ids of the order views anywhere in a response."""
    if isinstance(data, dict):
        if isinstance(data.get("id"), str) and "client_order_id" in data:
            yield data["id"]
        for value in data.values():
            yield from _orders_in(value)
    elif isinstance(data, list):
        for value in data:
            yield from _orders_in(value)


def _strings_and_items(data: Any) -> Iterator[tuple[int, int]]:
    """(length of a string, 0) for every string, (0, n) for every list of n items; a string
    holding JSON (an MCP result's text content) is looked into."""
    if isinstance(data, str):
        if len(data) > MAX_STRING and data.startswith(("{", "[")):
            try:
                inner = json.loads(data)
            except ValueError:
                pass
            else:
                yield from _strings_and_items(inner)
                return
        yield len(data), 0
    elif isinstance(data, dict):
        for key, value in data.items():
            yield len(key), 0
            yield from _strings_and_items(value)
    elif isinstance(data, list):
        yield 0, len(data)
        for value in data:
            yield from _strings_and_items(value)


def _small(reply: Reply, what: str) -> None:
    """No 5xx; no string over MAX_STRING; at most MAX_RESPONSE plus MAX_ITEM per listed item
    (a page of 1,000 audit entries is long by request, a gigabyte-long price never)."""
    assert reply.status < 500, f"{what}: {reply.status} {reply.body[:400]!r}"
    size = len(reply.body)
    if size <= MAX_RESPONSE:
        return
    try:
        data = json.loads(reply.body)
    except ValueError:
        raise AssertionError(f"{what}: a {size}-byte answer that is not JSON") from None
    longest, items = 0, 0
    for length, count in _strings_and_items(data):
        longest, items = max(longest, length), items + count
    assert longest <= MAX_STRING, f"{what}: a {longest}-character string in the answer"
    assert size <= MAX_RESPONSE + items * MAX_ITEM, f"{what}: {size} bytes for {items} items"


def _tool_outcome(reply: Reply, what: str) -> Any:
    """The structured result of a tool call; fails on anything but a result or a refusal."""
    _small(reply, what)
    if reply.status != 200:  # e.g. 400: the JSON-RPC body itself is not valid JSON
        return None
    data = reply.json()
    error = data.get("error")
    assert error is None or error.get("code") != -32603, f"{what}: internal error {error}"
    result = data.get("result") or {}
    if result.get("isError"):
        structured = result.get("structuredContent") or {}
        text = " ".join(c.get("text", "") for c in result.get("content", []))
        assert ("code" in structured and "message" in structured) or (
            "validation error" in text), f"{what}: a tool failed unexpectedly: {text[:400]}"
    return result.get("structuredContent")


def _path_of(world: World, target: Target, token: str) -> str:
    path = target.path
    if "{order_id}" in path:
        path = path.replace("{order_id}", world.working_order(str(target.field[-1])))
    path = path.replace("{account_id}", "paper").replace("{symbol}", "AAPL")
    if "{" in path:  # the numeric path parameter under attack
        name = str(target.field[0])
        path = path.replace("{" + name + "}", query_text(token) or "0")
    return path


def attack(world: World, target: Target, token: str) -> None:
    what = f"{target} <- {token[:80]}"
    if target.kind == "tool":
        data = _tool_outcome(world.call_tool(target.service, target.method,
                                             tool_arguments(world, target, token)), what)
    else:
        params = {str(target.field[0]): query_text(token)} if target.kind == "query" else None
        content = body_text(target, token) if target.kind == "body" else None
        reply = world.request(target.service, target.method, _path_of(world, target, token),
                              content=content, params=params)
        _small(reply, what)
        data = reply.json() if reply.body.startswith((b"{", b"[")) else None
        if target.method == "PUT" and target.path.startswith("/limits/") and reply.status == 200:
            # limits stay off, so the next attacks are not refused by one accepted here
            cleared = world.request(target.service, "PUT", _path_of(world, target, token),
                                    content=json.dumps(dict.fromkeys(data["limits"])))
            assert cleared.status == 200, cleared.body[:400]
    created = list(dict.fromkeys(_orders_in(data)))
    for order_id in created:
        world.order_ids.append(order_id)
        _small(world.request("trading-engine", "GET", f"/orders/{order_id}"),
               f"{what}: GET /orders/{order_id}")
        _small(world.request("orders", "GET", f"/orders/{order_id}/history"),
               f"{what}: its history")
    if created:
        _small(world.request("orders", "GET", "/orders", params={"status": "all", "limit": "10"}),
               f"{what}: the listing")


# ---- the test -------------------------------------------------------------------------------
def _targets(world: World) -> list[Target]:
    found = rest_targets(world.apps) + mcp_targets(world)
    # limits last: a limit accepted in passing (then cleared) cannot starve the order attacks
    return sorted(found, key=lambda t: t.method == "PUT" and t.path.startswith("/limits/"))


def _reads(world: World) -> None:
    """Every argument-free read, REST and MCP, answers small."""
    for service, app in world.apps.items():
        for path, operations in app.openapi()["paths"].items():
            get = operations.get("get")
            if get is None or "{" in path:
                continue
            names = {p["name"] for p in get.get("parameters", []) if p.get("required")}
            if names:
                continue
            params = {"limit": "10"} if any(p["name"] == "limit"
                                            for p in get.get("parameters", [])) else None
            _small(world.request(service, "GET", path, params=params), f"{service} GET {path}")
        for tool in world.tools(service):
            if not tool["inputSchema"].get("required") and (
                    tool.get("annotations") or {}).get("readOnlyHint"):
                arguments = {"limit": 10} if "limit" in tool["inputSchema"].get(
                    "properties", {}) else {}
                _tool_outcome(world.call_tool(service, tool["name"], json.dumps(arguments)),
                              f"{service} {tool['name']}")


def _fuzz(world: World, target: Target) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(token=hostile())
    def drawn(token: str) -> None:
        attack(world, target, token)

    drawn()


def test_hostile_numbers_get_a_4xx_and_everything_stays_small(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        targets = _targets(world)
        kinds = {t.kind for t in targets}
        assert {"body", "query", "path", "tool"} <= kinds, kinds  # discovery found each kind
        for target in targets:
            for token in NAMED:
                attack(world, target, token)
            _fuzz(world, target)
            world.fresh_quote(world.platform)
        _reads(world)
        orders = world.platform.kernel_runtime.kernel.state.orders
        statuses = Counter(orders[i].status for i in dict.fromkeys(world.order_ids))
        # the baselines are valid orders: attacks with good numbers are accepted and journaled
        assert sum(n for s, n in statuses.items() if s is not OrderStatus.REJECTED) > 10, statuses
        world.reopen()
        for order_id in dict.fromkeys(world.order_ids):
            reply = world.request("trading-engine", "GET", f"/orders/{order_id}")
            assert reply.status == 200, f"after recovery, {order_id}: {reply.status}"
            _small(reply, f"after recovery, GET /orders/{order_id}")
        _reads(world)
    finally:
        world.close()
