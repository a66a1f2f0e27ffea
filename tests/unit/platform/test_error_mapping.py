"""The one mapping of an error's kind to HTTP (platform/errors.py) and to MCP (faces/mcp/results.py),
and the rule that only the REST layer speaks HTTP statuses."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

import mcp_trading
from mcp_trading.domain import errors
from mcp_trading.domain.errors import (
    KINDS,
    ConflictError,
    ForbiddenError,
    InvalidError,
    MalformedError,
    NotFoundError,
    RefusedError,
    TradingError,
    UnauthenticatedError,
    UnavailableError,
)
from mcp_trading.domain.risk import InvalidLimitError, Refusal
from mcp_trading.faces.mcp.results import refusal, resource_error
from mcp_trading.kernel.commands import OrderRefusedError
from mcp_trading.kernel.journal import JournalError
from mcp_trading.platform.errors import HTTP_STATUS, http_error, http_status
from mcp_trading.platform.platform import PlatformUnavailableError
from mcp_trading.services.trading_engine.service import OrderRejectedError

# what the API answers for each kind: part of the product, so pinned here
EXPECTED = {InvalidError: 422, MalformedError: 400, UnauthenticatedError: 401, ForbiddenError: 403,
            RefusedError: 403, NotFoundError: 404, ConflictError: 409, UnavailableError: 503}


def test_every_kind_has_exactly_one_status() -> None:
    assert set(HTTP_STATUS) == set(KINDS)
    assert dict(HTTP_STATUS) == EXPECTED


def test_the_drawn_tree_shows_the_statuses_of_the_mapping() -> None:
    drawn = dict(re.findall(r"(\w+Error)\s+(\d{3})\b", errors.__doc__ or ""))
    assert {name: int(status) for name, status in drawn.items()} == {
        kind.__name__: status for kind, status in HTTP_STATUS.items()}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_a_kind_maps_to_its_status_and_body_on_rest_and_to_an_error_result_on_mcp(
        kind: type[TradingError]) -> None:
    exc = kind("qty: was 0; must be > 0", code="SOME_CODE", field="qty", extra={"max": "5"})
    status = EXPECTED[kind]
    assert http_error(exc) == (status, {"code": "SOME_CODE", "message": "qty: was 0; must be > 0",
                                        "field": "qty", "max": "5"})
    result = refusal(exc)
    assert result.is_error
    assert result.structured_content == {"code": "SOME_CODE", "message": "qty: was 0; must be > 0",
                                         "status": status, "field": "qty", "max": "5"}
    resource = resource_error(exc)
    assert isinstance(resource, ResourceError)
    assert isinstance(resource, ResourceNotFoundError) == (kind is NotFoundError)
    assert str(resource) == "SOME_CODE: qty: was 0; must be > 0"


@pytest.mark.parametrize("exc", [TradingError("a fault"), JournalError("disk full"),
                                 ValueError("foreign")], ids=lambda e: type(e).__name__)
def test_an_error_of_no_kind_is_a_fault_everywhere(exc: Exception) -> None:
    assert http_status(exc) is None and http_error(exc) is None
    assert resource_error(exc) is None
    with pytest.raises(type(exc)):
        refusal(exc)


def _answer(exc: Exception) -> tuple[int, dict[str, Any]] | None:
    return http_error(exc)


def test_the_domain_errors_answer_as_they_always_did() -> None:
    assert _answer(errors.InvalidOrderError("qty", "must be > 0")) == (
        422, {"code": "INVALID_ORDER", "message": "qty: must be > 0", "field": "qty"})
    assert _answer(errors.UnknownSymbolError("ZZZ")) == (422, {
        "code": "UNKNOWN_SYMBOL", "field": "symbol",
        "message": "symbol 'ZZZ' is not a known instrument; list instruments for valid symbols"})
    assert _answer(errors.UnknownAccountError("x")) == (
        404, {"code": "UNKNOWN_ACCOUNT", "message": "account 'x' does not exist"})
    assert _answer(errors.OrderNotFoundError("o-1")) == (
        404, {"code": "ORDER_NOT_FOUND", "message": "order 'o-1' not found"})
    status, body = _answer(errors.DuplicateClientOrderIdError("c-1", "o-1")) or (0, {})
    assert (status, body["code"], body["field"]) == (409, "DUPLICATE_CLIENT_ORDER_ID",
                                                     "client_order_id")
    assert _answer(errors.OrderStateError("order o-1 is filled; only working orders can be "
                                          "canceled")) == (422, {
        "code": "ORDER_STATE",
        "message": "order o-1 is filled; only working orders can be canceled"})
    assert http_status(errors.IllegalTransitionError("o-1", "filled", "fill")) == 422
    assert _answer(InvalidLimitError("max_order_qty", "must be > 0")) == (
        422, {"code": "INVALID_LIMIT", "message": "max_order_qty: must be > 0",
              "field": "max_order_qty"})
    assert _answer(OrderRefusedError(Refusal("TRADING_HALTED", "trading is halted"))) == (
        403, {"code": "TRADING_HALTED", "message": "trading is halted"})
    assert _answer(PlatformUnavailableError("the platform is stopping")) == (
        503, {"code": "UNAVAILABLE", "message": "the platform is stopping"})


def test_a_rejected_order_is_one_refusal_on_rest_and_mcp() -> None:
    view = {"id": "o-1", "status": "rejected", "reject_code": "MAX_ORDER_QTY",
            "reject_reason": "qty 500 exceeds max_order_qty 100", "qty": Decimal(500)}
    rejected = OrderRejectedError(view)
    assert http_error(rejected) == (403, {"code": "MAX_ORDER_QTY",
                                          "message": "qty 500 exceeds max_order_qty 100",
                                          "order": view})
    assert refusal(rejected).structured_content == {
        "code": "MAX_ORDER_QTY", "message": "qty 500 exceeds max_order_qty 100", "status": 403,
        "order": view}


# ---- only the REST layer speaks HTTP ---------------------------------------------------------
SRC = Path(mcp_trading.__file__).parent
#: the REST layer: the shared machinery, the mapping, and each service's REST face
REST_LAYER = ("faces/rest/", "platform/errors.py")
# MCP quotes the REST status in its error results, through the one mapping
MAY_IMPORT_MAPPING = (*REST_LAYER, "faces/mcp/results.py")


def _in(name: str, layer: tuple[str, ...]) -> bool:
    return name.startswith(layer) or (name.startswith("services/") and name.endswith("/rest.py"))
_STATUS = range(400, 600)


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value in _STATUS


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def _http_speech(tree: ast.AST) -> list[str]:
    """Where a module constructs an HTTP status error or an HTTP status result."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _callee(node)
            if name in ("ApiError", "HTTPException"):
                found.append(f"line {node.lineno}: {name}(...)")
            elif name.endswith(("Error", "Exception")) and (
                    any(_is_status(a) for a in node.args)
                    or any(k.arg in ("status", "status_code") and _is_status(k.value)
                           for k in node.keywords)):
                found.append(f"line {node.lineno}: {name}(<http status>, ...)")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (isinstance(key, ast.Constant) and key.value in ("status", "status_code")
                        and _is_status(value)):
                    found.append(f"line {node.lineno}: {{{key.value!r}: <http status>}}")
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = {alias.name for alias in node.names}
            if "HTTPException" in names and node.module.startswith(("fastapi", "starlette")):
                found.append(f"line {node.lineno}: imports HTTPException from {node.module}")
    return found


def _modules() -> list[tuple[str, ast.AST]]:
    return [(path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(SRC.rglob("*.py"))]


def test_the_grep_sees_http_speech() -> None:
    # the check below must be able to fail: the service code of before, and the REST guard
    before = ast.parse('raise ApiError(422, "INVALID_QUERY", "limit: must be >= 1")\n'
                       'raise OrderError(403, "FORBIDDEN", "not yours")\n'
                       'raise KindError("m", status_code=503)\n'
                       'results.append({"status": 403, "code": "MAX_ORDER_QTY"})\n'
                       'from fastapi import HTTPException\n')
    assert len(_http_speech(before)) == 5
    guard = dict(_modules())["faces/rest/guard.py"]
    assert _http_speech(guard)


def test_no_module_outside_the_rest_layer_constructs_an_http_status_error() -> None:
    offenders = {name: found for name, tree in _modules()
                 if not _in(name, REST_LAYER) and (found := _http_speech(tree))}
    assert offenders == {}, "raise an error of a kind (domain/errors.py) instead"


def test_only_the_rest_layer_and_the_mcp_results_import_the_http_mapping() -> None:
    mapping = "mcp_trading.platform.errors"
    importers = set()
    for name, tree in _modules():
        for node in ast.walk(tree):
            modules = ([node.module] if isinstance(node, ast.ImportFrom) else
                       [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            if mapping in modules:
                importers.add(name)
    assert importers and all(_in(name, MAY_IMPORT_MAPPING) for name in importers), importers
