"""The pre-trade dry run (POST /check, MCP preview_order / check_order) and submit agree.

Both reach `Kernel.check`; this pins that the preview's verdict is what a submit right after
it does, for every kind of input: accepted, each risk refusal, each trading state, what is
not an order (unknown symbol or account, off-tick, off-lot), and a repeated client_order_id
— same parameters (the order placed before, live or released from memory) or different
ones (a conflict).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mcp_trading.config import Settings
from mcp_trading.domain.events import OrderAccepted, OrderRejected
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec
from mcp_trading.platform.errors import http_error
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.risk.service import RiskService
from mcp_trading.services.trading_engine.service import TradingService

TRADER = Principal(Role.TRADER, key_id="k-trader", account_id=None, name="trader")
Payload = dict[str, Any]
Outcome = tuple[str, Any]


@pytest.fixture
def plat(tmp_path: Path) -> Iterator[Platform]:
    p = Platform(Settings(data_dir=tmp_path, projection="thread", projection_interval_s=30))
    p.open()
    p.accepting = True
    try:
        yield p
    finally:
        p.accepting = False
        assert p.runtime is not None
        p.runtime.journal.flush()
        if p.projector is not None:
            p.projector.stop()
        p.runtime.close()
        if p.order_reads is not None:
            p.order_reads.close()


def _quote(plat: Platform, symbol: str = "AAPL", *, age_s: float = 0) -> None:
    plat.kernel_runtime.kernel.on_quote(Quote(
        symbol, Decimal("100.00"), Decimal("100.02"), Decimal(10_000), Decimal(10_000), None,
        time.time_ns() - int(age_s * 1e9)))


def _limits(plat: Platform, **limits: object) -> None:
    plat.kernel_runtime.kernel.set_limits(None, dict(limits), actor="test")


def _place(plat: Platform, **fields: Any) -> None:
    order = {"symbol": "AAPL", "side": "buy", "qty": 1, **fields}
    plat.kernel_runtime.kernel.submit("paper", OrderRequest.parse(**order))


def _release(plat: Platform) -> None:
    plat.kernel_runtime.journal.flush()
    assert plat.projector is not None and plat.order_reads is not None
    plat.projector.projector.catch_up()
    assert plat.release_closed(plat.order_reads.watermark()) > 0


def _halt(level: TradingState) -> Callable[[Platform], None]:
    return lambda plat: plat.kernel_runtime.kernel.halt(level=level, reason="test", actor="t")


def _reducing_long(plat: Platform) -> None:
    _place(plat, qty=10)  # a market buy: filled at once, a long of 10
    _halt(TradingState.REDUCING)(plat)


def _released(**fields: Any) -> Callable[[Platform], None]:
    def setup(plat: Platform) -> None:
        _place(plat, **fields)
        _release(plat)
    return setup


MARKET: Payload = {"symbol": "AAPL", "qty": 10, "side": "buy"}
LIMIT: Payload = {**MARKET, "type": "limit", "limit_price": "99.00", "time_in_force": "gtc"}
RESTING = {**LIMIT, "limit_price": "90.00", "client_order_id": "c-1"}
HUGE = {**MARKET, "qty": 900_000, "client_order_id": "c-huge"}  # past the buying power
FILLED = {**MARKET, "client_order_id": "c-fill"}

#: id -> (setup, the payload previewed then submitted, the outcome both must reach)
CASES: dict[str, tuple[Callable[[Platform], Any], Payload, str]] = {
    "accepted-market": (lambda p: None, MARKET, "accept"),
    "accepted-limit": (lambda p: None, LIMIT, "accept"),
    "max-order-qty": (lambda p: _limits(p, max_order_qty=5), MARKET, "RISK_MAX_ORDER_QTY"),
    "max-notional": (lambda p: _limits(p, max_order_notional=500), MARKET, "RISK_MAX_NOTIONAL"),
    "max-position": (lambda p: _limits(p, max_position_qty=5), MARKET, "RISK_MAX_POSITION"),
    "max-gross": (lambda p: _limits(p, max_gross_exposure=100), MARKET,
                  "RISK_MAX_GROSS_EXPOSURE"),
    "price-collar": (lambda p: _limits(p, price_collar_pct=1),
                     {**LIMIT, "limit_price": "90.00"}, "RISK_PRICE_COLLAR"),
    "stale-quote": (lambda p: (_limits(p, max_quote_age_s=5), _quote(p, age_s=30)), MARKET,
                    "RISK_STALE_QUOTE"),
    "rate-limit": (lambda p: (_limits(p, max_orders_per_second=1), _place(p)), MARKET,
                   "RISK_RATE_LIMIT"),
    "buying-power": (lambda p: None, HUGE, "RISK_BUYING_POWER"),
    "short-sale": (lambda p: None, {**MARKET, "side": "sell"}, "RISK_SHORT_SALE"),
    "no-quote": (lambda p: None, {**MARKET, "symbol": "MSFT"}, "RISK_NO_QUOTE"),
    "halted": (_halt(TradingState.HALTED), MARKET, "TRADING_HALTED"),
    "halted-new-orders": (_halt(TradingState.HALTED_NEW_ORDERS), MARKET, "TRADING_HALTED"),
    "reducing-opening": (_reducing_long, MARKET, "TRADING_REDUCING"),
    "reducing-closing": (_reducing_long, {**MARKET, "side": "sell", "qty": 4}, "accept"),
    "maintenance": (lambda p: p.kernel_runtime.kernel.set_maintenance(
        True, reason="upgrade", actor="t"), MARKET, "MAINTENANCE"),
    "unknown-symbol": (lambda p: None, {**MARKET, "symbol": "NOPE"}, "422 UNKNOWN_SYMBOL"),
    "unknown-account": (lambda p: None, {**MARKET, "account_id": "ghost"},
                        "404 UNKNOWN_ACCOUNT"),
    "off-tick": (lambda p: None, {**LIMIT, "limit_price": "99.001"}, "422 INVALID_ORDER"),
    "off-lot": (lambda p: None, {**MARKET, "qty": "1.5"}, "422 INVALID_ORDER"),
    "retry-live": (lambda p: _place(p, **RESTING), RESTING, "accept the order placed before"),
    "retry-live-rejected": (lambda p: _place(p, **HUGE), HUGE, "RISK_BUYING_POWER"),
    "conflict-live": (lambda p: _place(p, **RESTING), {**RESTING, "qty": 2},
                      "DUPLICATE_CLIENT_ORDER_ID"),
    "retry-released": (_released(**FILLED), FILLED, "accept the order placed before"),
    "retry-released-rejected": (_released(**HUGE), HUGE, "RISK_BUYING_POWER"),
    "conflict-released": (_released(**FILLED), {**FILLED, "qty": 3},
                          "DUPLICATE_CLIENT_ORDER_ID"),
}


def _preview(plat: Platform, payload: Payload) -> Outcome:
    try:
        verdict = RiskService(plat.core).check(TRADER, payload)
    except Exception as exc:
        api = http_error(exc)
        assert api is not None, exc
        return "error", f"{api[0]} {api[1]['code']}"
    if not verdict["would_accept"]:
        return "refused", verdict["code"]
    retry = verdict.get("idempotent_retry")
    return "accepted", None if retry is None else retry["order_id"]


def _submit(plat: Platform, payload: Payload, known: set[str]) -> Outcome:
    try:
        view, accepted = asyncio.run(TradingService(plat.core).submit_order(TRADER, payload))
    except Exception as exc:
        api = http_error(exc)
        assert api is not None, exc
        status, body = api
        if status == 409:  # a preview answers a conflict as would_accept false, same code
            return "refused", body["code"]
        return "error", f"{status} {body['code']}"
    if not accepted:
        return "refused", view["reject_code"]
    return "accepted", view["id"] if view["id"] in known else None


def _known_ids(plat: Platform) -> set[str]:
    """Every order id placed so far (in memory or released), read from the journal."""
    runtime = plat.kernel_runtime
    runtime.journal.flush()
    return {event.order_id for _, event in codec.events(runtime.journal.store.read(after_seq=0))
            if isinstance(event, OrderAccepted | OrderRejected)}


@pytest.mark.parametrize("case", list(CASES))
def test_preview_verdict_is_what_submit_does(plat: Platform, case: str) -> None:
    setup, payload, expected = CASES[case]
    _quote(plat)
    setup(plat)
    plat.kernel_runtime.journal.flush()
    seq = plat.kernel_runtime.kernel.seq
    known = _known_ids(plat)
    preview = _preview(plat, payload)
    assert plat.kernel_runtime.kernel.seq == seq  # the preview changed nothing
    submitted = _submit(plat, payload, known)
    assert preview == submitted, f"preview {preview} but submit {submitted}"
    kind, detail = submitted
    if expected == "accept":
        assert submitted == ("accepted", None)
    elif expected == "accept the order placed before":
        assert kind == "accepted" and detail in known
    elif expected[0].isdigit():
        assert submitted == ("error", expected)
    else:
        assert submitted == ("refused", expected)
