"""A rebalance's order list and its dry run: pure functions over the kernel's state.

Sizing: the account's equity (cash + positions at their marks) times each target weight, at
the symbol's reference price (the venue's last trade, else the quote's mid, else the
position's mark), gives a target quantity; the difference to the position is rounded
toward zero to whole lots (the instrument's lot size), so a plan never buys more than the
target. A trade below `min_trade_notional`, or below the instrument's minimum quantity, is
skipped and listed with the reason. A held symbol the target does not name goes to 0.
Sells come first, then buys, each sorted by symbol.

The dry run asks `Kernel.check` — the decision `submit` acts on — for every order. The
kernel judges each order against the account as it is now; a plan's buys are usually paid
for by its sells, so the whole list is also judged against the account as it will be once
the sells have filled: the buying power plus the sells' proceeds at the current reference
prices less a stated margin (`proceeds_margin`, default 0.5 %, for the price moving while
the sells fill). A buy the kernel refuses only for buying power is judged by that total
alone, and every buy is held to the running total of the plan's buys. The verdict says
which rule decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.risk import Reason
from mcp_trading.kernel.kernel import Kernel

__all__ = ["DEFAULT_PROCEEDS_MARGIN", "check_plan", "plan_orders", "reference_prices"]

DEFAULT_PROCEEDS_MARGIN = Decimal("0.005")

_ZERO = Decimal(0)
_MONEY = Decimal("0.01")
_BUYING_POWER = Reason.BUYING_POWER.value


def _price_of(kernel: Kernel, account: Account, symbol: str) -> Decimal | None:
    book = kernel.state.venue.books.get(symbol)
    quote = book.quote if book is not None else None
    if quote is not None:
        return quote.last if quote.last is not None else (quote.bid + quote.ask) / 2
    position = account.positions.get(symbol)
    return position.mark if position is not None else None


def reference_prices(kernel: Kernel, account: Account, symbols: list[str]) -> dict[str, Decimal]:
    """The price each symbol is sized at; InvalidError naming a symbol without one."""
    out: dict[str, Decimal] = {}
    for symbol in symbols:
        if symbol not in kernel.instruments:
            raise InvalidError(f"weights.{symbol}: {symbol} is not an instrument of the "
                               "platform; a rebalance can only trade instruments the kernel "
                               "knows", code="UNKNOWN_SYMBOL", field=f"weights.{symbol}")
        price = _price_of(kernel, account, symbol)
        if price is None or price <= 0:
            raise InvalidError(f"weights.{symbol}: there is no quote for {symbol} yet; a "
                               "rebalance sizes its orders at the current price (wait for the "
                               "feed's first quote)", code="NO_QUOTE", field=f"weights.{symbol}")
        out[symbol] = price
    return out


def plan_orders(kernel: Kernel, account: Account, target: Mapping[str, Decimal], *,
                min_trade_notional: Decimal, order_type: str
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Decimal]:
    """(orders sells first, skipped trades with the reason, the equity sized against)."""
    held = [s for s, p in account.positions.items() if p.qty != 0]
    symbols = sorted(set(target) | set(held))
    prices = reference_prices(kernel, account, symbols)
    equity = account.equity
    orders: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for symbol in symbols:
        instrument = kernel.instruments[symbol]
        position = account.positions.get(symbol)
        current = position.qty if position is not None else _ZERO
        price = prices[symbol]
        weight = target.get(symbol, _ZERO)
        wanted = equity * weight / price
        lots = ((wanted - current).copy_abs() / instrument.lot_size).to_integral_value(ROUND_DOWN)
        qty = lots * instrument.lot_size
        side = "buy" if wanted > current else "sell"
        notional = (qty * price).quantize(_MONEY)
        row = {"symbol": symbol, "side": side, "qty": str(qty), "current_qty": str(current),
               "target_weight": str(weight), "target_qty": str(wanted.quantize(Decimal("0.0001"))),
               "reference_price": str(price), "notional": str(notional)}
        if qty == 0 or qty < instrument.min_qty:
            if wanted != current:
                skipped.append({**row, "reason": f"less than one lot ({instrument.lot_size}) "
                                                 "or the minimum quantity"})
            continue
        if notional < min_trade_notional:
            skipped.append({**row, "reason": f"notional {notional} is below "
                                             f"min_trade_notional {min_trade_notional}"})
            continue
        order = {"symbol": symbol, "side": side, "qty": str(qty), "type": order_type,
                 "time_in_force": "day"}
        if order_type == "limit":
            order["limit_price"] = str(_on_tick(price, instrument.tick_size, side))
        orders.append({"order": order, **row})
    orders.sort(key=lambda o: (o["side"] != "sell", o["symbol"]))
    return orders, skipped, equity


def _on_tick(price: Decimal, tick: Decimal, side: str) -> Decimal:
    # a buy's limit rounds down and a sell's up: never a worse price than the reference
    ticks = price / tick
    whole = ticks.to_integral_value(ROUND_DOWN)
    if side == "sell" and whole != ticks:
        whole += 1
    return whole * tick


def _sell_proceeds(kernel: Kernel, account: Account, orders: list[dict[str, Any]],
                   margin: Decimal) -> Decimal:
    """The plan's sells' proceeds (long quantity only) at the current prices, less margin."""
    total = _ZERO
    for o in orders:
        if o["side"] != "sell":
            continue
        position = account.positions.get(o["symbol"])
        long_qty = max(position.qty, _ZERO) if position is not None else _ZERO
        price = _price_of(kernel, account, o["symbol"]) or Decimal(o["reference_price"])
        total += min(Decimal(o["qty"]), long_qty) * price
    return total * (1 - margin)


def check_plan(kernel: Kernel, account_id: str, orders: list[dict[str, Any]], *,
               margin: Decimal = DEFAULT_PROCEEDS_MARGIN) -> list[dict[str, Any]]:
    """Each order's dry run (module docstring): would_accept, code, message, reserve."""
    account = kernel.state.accounts[account_id]
    proceeds = _sell_proceeds(kernel, account, orders, margin)
    funds = account.buying_power + proceeds
    needed = _ZERO
    verdicts = []
    for o in orders:
        request = OrderRequest.parse(**o["order"])
        verdict = kernel.check(account_id, request)
        result = verdict.result
        if result is None:  # a client_order_id retry cannot happen: plans carry none
            verdicts.append({"would_accept": False, "code": "RETRY", "message": "already placed",
                             "decided_by": "kernel"})
            continue
        refusal = result.refusal
        reserve = result.reserve
        decided = "kernel"
        if refusal is not None and refusal.code == _BUYING_POWER and o["side"] == "buy":
            reserve = Decimal(o["qty"]) * (result.ref_price or Decimal(o["reference_price"]))
            refusal, decided = None, "plan funding"
        if refusal is None and o["side"] == "buy":
            needed += reserve
            if needed > funds:
                verdicts.append({
                    "would_accept": False, "code": _BUYING_POWER, "decided_by": "plan funding",
                    "message": f"the plan's buys up to this one need {needed.quantize(_MONEY)}; "
                               f"buying power {account.buying_power.quantize(_MONEY)} plus the "
                               f"plan's sell proceeds at the current prices less a "
                               f"{margin * 100:g} % margin ({proceeds.quantize(_MONEY)}) is "
                               f"{funds.quantize(_MONEY)}"})
                continue
        verdicts.append({
            "would_accept": refusal is None, "code": None if refusal is None else refusal.code,
            "message": ("the order passes every pre-trade check" if decided == "kernel" else
                        "passes every pre-trade check once the plan's sells have filled")
            if refusal is None else refusal.message,
            "decided_by": decided, "reserve": str(reserve.quantize(_MONEY))})
    return verdicts
