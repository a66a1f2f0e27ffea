"""The self-test: one one-share order through the whole pipeline on the self-test account.

Each stage (submit through risk and the journal, working at the venue, cancel through the
journal) is timed and reported; a failure reports a refusal's message, a fault's type only.
The order is a day limit order far below the bid, so it rests and is cancelled unfilled.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from mcp_trading.domain.errors import TradingError, UnavailableError, kind_of
from mcp_trading.domain.orders import WORKING, Order, OrderRequest, OrderStatus
from mcp_trading.kernel.kernel import Kernel

__all__ = ["SELFTEST_ACCOUNT", "run_selftest"]

SELFTEST_ACCOUNT = "_selftest"


async def run_selftest(kernel: Kernel, durable: Callable[[], Awaitable[None]]) -> dict[str, Any]:
    """The self-test's report: pass or fail, the stages with their times, the failure's detail."""
    stages: list[dict[str, Any]] = []

    async def stage(name: str, action: Any) -> Any:
        t0 = time.perf_counter()
        try:
            result = await action() if callable(action) else action
        except Exception as exc:
            stages.append({"stage": name, "ok": False, "ms": _ms(t0), "error": _detail(exc)})
            raise
        stages.append({"stage": name, "ok": True, "ms": _ms(t0)})
        return result

    t_start = time.perf_counter()
    passed = False
    detail = ""
    try:
        if SELFTEST_ACCOUNT not in kernel.state.accounts:
            kernel.open_account(SELFTEST_ACCOUNT, Decimal(1_000_000), internal=True)
        symbol = next((s for s, b in kernel.state.venue.books.items() if b.quote), None)
        if symbol is None:
            raise UnavailableError("no quote has arrived yet; the feed is down", code="NO_QUOTE")
        quote = kernel.state.venue.books[symbol].quote
        assert quote is not None
        far = (quote.bid * Decimal("0.95")).quantize(Decimal("0.01"))
        request = OrderRequest.parse(symbol=symbol, qty=1, side="buy", type="limit",
                                     limit_price=str(far), time_in_force="day")

        async def place() -> Order:
            order = kernel.submit(SELFTEST_ACCOUNT, request, attribution="selftest")
            await durable()
            if order.status is OrderStatus.REJECTED:
                raise UnavailableError(order.reject_reason or "", code=order.reject_code or "REJECTED")
            return order

        order = await stage("submit_risk_journal", place)

        async def verify() -> None:
            if order.status not in WORKING:
                raise UnavailableError(f"order is {order.status}, expected working", code="SELFTEST")

        await stage("working_at_venue", verify)

        async def cancel() -> None:
            kernel.cancel(order.id, reason="selftest cleanup")
            await durable()
            if kernel.state.accounts[SELFTEST_ACCOUNT].open_orders:
                raise UnavailableError("self-test orders still open after cancel", code="SELFTEST")

        await stage("cancel_journal", cancel)
        passed = True
    except Exception as exc:
        detail = _detail(exc)
    return {"result": "pass" if passed else "fail", "total_ms": _ms(t_start),
            "account": SELFTEST_ACCOUNT, "stages": stages, "detail": detail}


def _detail(exc: Exception) -> str:
    """What the self-test reports of a failure: a refusal's message, a fault's type only."""
    if isinstance(exc, TradingError) and kind_of(exc) is not None:
        return exc.message
    return type(exc).__name__


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
