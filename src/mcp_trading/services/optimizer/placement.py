"""Placing a confirmed rebalance: check the whole list, sells, wait for their fills, buys.

1. Every order is checked again (`check_plan`): by the kernel, and the buys against the
   account as it will be after the sells (buying power plus the sells' proceeds at the
   current prices less the preview's `proceeds_margin`). If any would be refused, nothing is
   placed (`status: refused`).
2. The sells are submitted in one synchronous block (no other command runs between them).
3. If there are buys, the sells must fill first, or the buys could lack the cash: the
   confirm waits up to `fill_wait_s` for every sell to fill (a latency model delays a market
   sell until a later quote; a limit sell may not fill at all). Then the buys are checked
   once more against the account as it now is and, if all pass, submitted in one block
   (`status: placed`).
4. If a sell has not filled in time, what is left of each unfilled sell is canceled and no
   buy is placed; if a buy would be refused after the sells filled, no buy is placed either
   (`status: incomplete`). The filled sells stand; each order's `outcome` says what became
   of it (filled, partially filled and the rest canceled, canceled unfilled, placed, not
   placed) and `summary` says it in one sentence. Nothing is left half-said.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.services.optimizer.plan import DEFAULT_PROCEEDS_MARGIN, check_plan
from mcp_trading.services.views import order_view

if TYPE_CHECKING:
    from mcp_trading.domain.orders import Order
    from mcp_trading.kernel.kernel import Kernel
    from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["place"]

_POLL_S = 0.01


def _submit(kernel: Kernel, account_id: str, o: Mapping[str, Any], attribution: str
            ) -> tuple[dict[str, Any], Order | None]:
    order = kernel.submit(account_id, OrderRequest.parse(**o["order"]), attribution=attribution)
    view = order_view(order)
    placed = view["status"] != "rejected"
    return {**o["order"], "placed": placed, "would_accept": placed,
            "code": view.get("reject_code"), "message": view.get("reject_reason")
            or "placed", "order": view}, order if placed else None


async def _wait_for_fills(orders: list[Order], wait_s: float) -> float:
    """Poll (the feed fills orders on the same loop) until all are terminal or time is up."""
    started = time.monotonic()
    while any(not o.is_terminal for o in orders) and time.monotonic() - started < wait_s:
        await asyncio.sleep(_POLL_S)
    return time.monotonic() - started


def _cancel_unfilled(kernel: Kernel, sells: list[tuple[dict[str, Any], Order | None]],
                     wait_s: float) -> list[dict[str, Any]]:
    out = []
    for answer, order in sells:
        if order is None:
            out.append({**answer, "outcome": "not placed"})
            continue
        if not order.is_terminal:
            kernel.cancel(order.id, account_id=order.account_id,
                          reason=f"rebalance: not filled within {wait_s:g} s; canceled so "
                                 "that no buy is placed short of cash")
        outcome = _sell_outcome(order)
        out.append({**answer, "order": order_view(order), "outcome": outcome,
                    "message": outcome})
    return out


def _sell_outcome(order: Order) -> str:
    if order.status is OrderStatus.FILLED:
        return "filled"
    if order.filled_qty > 0:
        return f"partially filled ({order.filled_qty} of {order.qty}), the rest canceled"
    return f"{order.status.value if order.status else 'unknown'}, nothing filled"


def _not_placed(buys: list[dict[str, Any]], verdicts: list[dict[str, Any]] | None,
                why: str) -> list[dict[str, Any]]:
    if verdicts is None:
        return [{**b["order"], "placed": False, "would_accept": None, "code": None,
                 "outcome": "not placed", "message": why} for b in buys]
    return [{**b["order"], **v, "placed": False, "outcome": "not placed",
             "message": f"{why}; {v['message']}" if not v["would_accept"] else why}
            for b, v in zip(buys, verdicts, strict=True)]


async def place(svc: OptimizerService, row: Mapping[str, Any], *, fill_wait_s: float
                ) -> dict[str, Any]:
    """Check all, place the sells, wait for them, then the buys (module docstring)."""
    kernel = svc.kernel()
    account_id = row["account_id"]
    payload = row["payload"]
    orders = payload["orders"]
    margin = Decimal(str(payload.get("proceeds_margin", DEFAULT_PROCEEDS_MARGIN)))
    verdicts = check_plan(kernel, account_id, orders, margin=margin)
    if not all(v["would_accept"] for v in verdicts):
        return {"status": "refused", "placed": 0, "summary": "nothing was placed",
                "orders": [{**o["order"], **v, "placed": False, "outcome": "not placed"}
                           for o, v in zip(orders, verdicts, strict=True)]}
    attribution = payload["attribution"]
    sells = [_submit(kernel, account_id, o, attribution) for o in orders if o["side"] == "sell"]
    buys = [o for o in orders if o["side"] == "buy"]
    if not buys:
        answers = [{**a, "outcome": _placed(a)} for a, _ in sells]
        return _answer(answers, "every order was placed")
    if svc.core is not None and any(order is not None for _, order in sells):
        await svc.core.durable()
    waited = await _wait_for_fills([o for _, o in sells if o is not None], fill_wait_s)
    filled = all(o is not None and o.status is OrderStatus.FILLED for _, o in sells)
    if not filled:
        answers = _cancel_unfilled(kernel, sells, fill_wait_s)
        unfilled = sum(1 for a in answers if a["outcome"] != "filled")
        why = (f"not placed: {unfilled} of {len(sells)} sells did not fill within "
               f"{fill_wait_s:g} s (fill_wait_s), so the buys could lack cash")
        return _answer(answers + _not_placed(buys, None, why),
                       f"{why}; what was left of them is canceled")
    sold = [{**a, "order": order_view(o), "outcome": "filled"} for a, o in sells
            if o is not None]
    again = check_plan(kernel, account_id, buys, margin=margin)
    if not all(v["would_accept"] for v in again):
        why = ("not placed: after the sells filled, a buy would be refused, so no buy was "
               "placed")
        return _answer(sold + _not_placed(buys, again, why), why)
    bought = [{**a, "outcome": _placed(a)} for a, _ in
              (_submit(kernel, account_id, o, attribution) for o in buys)]
    return _answer(sold + bought, f"every order was placed; the sells filled in {waited:.2f} s "
                                  "before the buys were placed")


def _placed(answer: Mapping[str, Any]) -> str:
    return "placed" if answer["placed"] else "rejected at submit"


def _answer(answers: list[dict[str, Any]], summary: str) -> dict[str, Any]:
    placed = sum(1 for a in answers if a["placed"])
    complete = placed == len(answers) and all(a["outcome"] in ("placed", "filled")
                                              for a in answers)
    return {"status": "placed" if complete else "incomplete", "placed": placed,
            "summary": summary, "orders": answers}
