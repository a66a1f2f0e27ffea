"""JSON views of kernel objects, with Alpaca's field names: decimals as strings, ISO times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.market import Quote
from mcp_trading.domain.numbers import text_at, to_text
from mcp_trading.domain.orders import Order
from mcp_trading.domain.positions import Position

__all__ = ["account_view", "iso", "money", "order_row_view", "order_view", "position_view",
           "quote_view"]

_NS = 1_000_000_000


_SECOND_PREFIX: dict[int, str] = {}


def iso(ts: int | None) -> str | None:
    """ISO 8601 UTC with microseconds, e.g. 2026-11-24T01:24:37.179007Z.

    The text up to the second is cached (responses stamp many times within one second).
    """
    if ts is None:
        return None
    seconds, rest = divmod(ts, _NS)
    prefix = _SECOND_PREFIX.get(seconds)
    if prefix is None:
        if len(_SECOND_PREFIX) > 4096:
            _SECOND_PREFIX.clear()
        prefix = _SECOND_PREFIX[seconds] = datetime.fromtimestamp(seconds, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%S")
    return f"{prefix}.{rest // 1000:06d}Z"


_STEPS: dict[str, Decimal] = {}


def money(value: Decimal | None, places: str = "0.01") -> str | None:
    """`value` rounded to `places` (a step such as "0.01"); bounded text whatever the value."""
    if value is None:
        return None
    step = _STEPS.get(places)
    if step is None:
        step = _STEPS[places] = Decimal(places)
    return text_at(value, step)


def _dec(value: Decimal | None) -> str | None:
    # never format(v, "f"): a value journaled before input bounds existed (1e-999999999)
    # would be a gigabyte of zeros; to_text writes it in a few bytes
    return None if value is None else to_text(value)


def order_view(order: Order) -> dict[str, Any]:
    avg = order.filled_avg_price
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "account_id": order.account_id,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "submitted_at": iso(order.created_at),
        "filled_at": iso(order.filled_at),
        "canceled_at": iso(order.canceled_at),
        "expired_at": iso(order.expired_at),
        "replaced_at": iso(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "symbol": order.symbol,
        "qty": _dec(order.qty),
        "filled_qty": _dec(order.filled_qty),
        "filled_avg_price": money(avg, "0.0001"),
        "side": order.side.value,
        "type": order.type.value,
        "order_type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "limit_price": _dec(order.limit_price),
        "stop_price": _dec(order.stop_price),
        "trail_price": _dec(order.trail_price),
        "trail_percent": _dec(order.trail_percent),
        "hwm": _dec(order.watermark),
        "status": None if order.status is None else order.status.value,
        "extended_hours": order.extended_hours,
        "reject_code": order.reject_code,
        "reject_reason": order.reject_reason,
        "attribution": order.attribution,
    }


def order_row_view(row: dict[str, Any]) -> dict[str, Any]:
    """`order_view` of a closed order read from the projections' `orders` row.

    A closed order's last event set its updated_at, so the time of its terminal status is
    updated_at (the kernel stamps filled_at/canceled_at/... from the same event).
    """
    status = row["status"]
    closed_at = row["updated_at"]
    avg = row["filled_avg_price"]
    kind = row["type"]
    return {
        "id": row["id"],
        "client_order_id": row["client_order_id"] or row["id"],
        "account_id": row["account_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(closed_at),
        "submitted_at": iso(row["created_at"]),
        "filled_at": iso(closed_at) if status == "filled" else None,
        "canceled_at": iso(closed_at) if status == "canceled" else None,
        "expired_at": iso(closed_at) if status == "expired" else None,
        "replaced_at": iso(closed_at) if status == "replaced" else None,
        "replaced_by": row["replaced_by"],
        "replaces": row["replaces"],
        "symbol": row["symbol"],
        "qty": _dec(row["qty"]),
        "filled_qty": _dec(row["filled_qty"]),
        "filled_avg_price": None if avg is None else str(avg.quantize(Decimal("0.0001"))),
        "side": row["side"],
        "type": kind,
        "order_type": kind,
        "time_in_force": row["time_in_force"],
        "limit_price": _dec(row["limit_price"]),
        "stop_price": _dec(row["stop_price"]),
        "trail_price": _dec(row["trail_price"]),
        "trail_percent": _dec(row["trail_percent"]),
        "hwm": _dec(row["hwm"]),
        "status": status,
        "extended_hours": bool(row["extended_hours"]),
        "reject_code": row["reject_code"],
        "reject_reason": row["reject_reason"],
        "attribution": row["attribution"],
        **({"archived": True} if row.get("archived") else {}),
    }


def position_view(account: Account, position: Position) -> dict[str, Any]:
    mark = position.mark
    return {
        "account_id": account.id,
        "symbol": position.symbol,
        "qty": _dec(position.qty),
        "side": position.side,
        "avg_entry_price": money(position.avg_entry_price, "0.0001"),
        "current_price": _dec(mark),
        "market_value": money(position.market_value),
        "cost_basis": money(position.cost_basis),
        "unrealized_pl": money(position.unrealized_pnl),
        "realized_pl": money(position.realized_pnl),
    }


def account_view(account: Account) -> dict[str, Any]:
    equity = account.equity
    return {
        "id": account.id,
        "currency": account.currency,
        "cash": money(account.cash),
        "equity": money(equity),
        "buying_power": money(account.buying_power),
        "reserved": money(account.reserved),
        "long_market_value": money(sum((p.market_value for p in account.positions.values()
                                        if p.qty > 0), Decimal(0))),
        "short_market_value": money(sum((p.market_value for p in account.positions.values()
                                         if p.qty < 0), Decimal(0))),
        "gross_exposure": money(account.gross_value),
        "realized_pl": money(account.realized_pnl),
        "unrealized_pl": money(account.unrealized_pnl),
        "daily_pl": money(account.daily_pnl),
        "start_cash": money(account.start_cash),
        "commissions": money(account.commissions),
        "trading_state": account.state.value,
        "trading_state_reason": account.state_reason,
        "shorting_enabled": account.allow_short,
        "open_orders": len(account.open_orders),
        "limits": account.limits.to_wire(),
    }


def quote_view(quote: Quote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "bid": to_text(quote.bid),
        "ask": to_text(quote.ask),
        "bid_size": _dec(quote.bid_size),
        "ask_size": _dec(quote.ask_size),
        "last": _dec(quote.last),
        "ts": iso(quote.ts),
    }
