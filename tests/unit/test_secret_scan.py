"""The suite-wide secret scan (tests/secret_scan.py) sees what it should, and only that."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.secret_scan import SecretScan

from mcp_trading.security.redact import redact

KEY = "mcpt_AbCdEfGhIjKl_" + "Zx9" * 14
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrZXkxIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(("text", "kind"), [(f"key={KEY}", "an API key"),
                                            (f"Bearer {JWT}", "a JWT"),
                                            ("pw=hunter2-but-longer", "a registered secret")])
def test_keys_tokens_and_registered_values_are_found(text: str, kind: str) -> None:
    scan = SecretScan()
    scan.remember("hunter2-but-longer")
    scan.check(text, "here")
    assert scan.leaks == [f"{kind} in here"]


def test_redacted_text_and_key_ids_are_not_leaks() -> None:
    scan = SecretScan()
    scan.check(redact(f"{KEY} {JWT} Bearer {KEY}") + " key:AbCdEfGhIjKl", "a log line")
    assert scan.leaks == []


def test_a_response_or_a_log_record_holding_a_key_is_caught(secret_scan: SecretScan) -> None:
    app = Starlette(routes=[Route("/leak", lambda _: PlainTextResponse(f"your key: {KEY}"))])
    TestClient(app).get("/leak")
    logging.getLogger("mcp_trading.test").warning("verifying %s", JWT)
    caught = list(secret_scan.leaks)
    secret_scan.leaks.clear()  # seen, on purpose: this test must not fail for it
    assert caught == ["an API key in the response to GET /leak (200)",
                      "a JWT in a log record of mcp_trading.test (WARNING)"]
