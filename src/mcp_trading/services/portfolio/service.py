"""Portfolio service functions: valuations and P&L per account and in total, positions with marks.

Framework-free; reads the kernel's in-memory state (marked on every quote). Decimals are
strings. Internal accounts (ids starting with "_") are left out of "all accounts".
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.numbers import text_at
from mcp_trading.kernel.kernel import Kernel
from mcp_trading.security.access import accounts_in_scope, require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.views import iso, money, position_view

__all__ = ["PortfolioService"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_PCT = Decimal("0.0001")
_CENT = Decimal("0.01")


class _Totals:
    """Sums of the figures a summary shows, over one or more accounts."""

    __slots__ = ("cash", "daily_pnl", "equity", "market_value", "positions", "realized",
                 "start_cash", "unrealized")

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.cash = self.equity = self.market_value = self.realized = _ZERO
        self.unrealized = self.daily_pnl = self.start_cash = _ZERO
        self.positions = 0
        for a in accounts:
            self.cash += a.cash
            self.equity += a.equity
            self.market_value += a.position_value
            self.realized += a.realized_pnl
            self.unrealized += a.unrealized_pnl
            self.daily_pnl += a.daily_pnl
            self.start_cash += a.start_cash
            self.positions += sum(1 for p in a.positions.values() if p.qty)

    def view(self, as_of: str | None) -> dict[str, Any]:
        ret = None
        if self.start_cash > _ZERO:
            ratio = (self.equity - self.start_cash) / self.start_cash * _HUNDRED
            ret = text_at(ratio, _PCT)  # a tiny loss shows 0.0000, not -0.0000
        return {"equity": money(self.equity), "cash": money(self.cash),
                "market_value": money(self.market_value), "realized_pnl": money(self.realized),
                "unrealized_pnl": money(self.unrealized), "daily_pnl": money(self.daily_pnl),
                "return_since_start": ret, "start_cash": money(self.start_cash),
                "positions_count": self.positions, "as_of": as_of}


class PortfolioService:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    def _accounts(self, caller: Principal, account_id: str | None) -> list[Account]:
        return accounts_in_scope(self.kernel.state.accounts, caller, account_id)

    def summary(self, principal: Principal | None, account_id: str | None = None
                ) -> dict[str, Any]:
        """Equity, cash, market value and P&L per account and for all of them together.

        return_since_start is percent of the accounts' starting cash; daily_pnl is since the
        start of the trading day.
        """
        caller = require(principal, Role.VIEWER)
        accounts = self._accounts(caller, account_id)
        as_of = iso(time.time_ns())
        rows = []
        for account in accounts:
            row = {"account_id": account.id, "currency": account.currency,
                   "trading_state": account.state.value, **_Totals((account,)).view(as_of),
                   "commissions": money(account.commissions)}
            rows.append(row)
        currencies = sorted({a.currency for a in accounts})
        total = {"accounts_count": len(accounts),
                 "currency": currencies[0] if len(currencies) == 1 else None,
                 **_Totals(accounts).view(as_of)}
        return {"as_of": as_of, "accounts": rows, "total": total}

    def positions(self, principal: Principal | None, account_id: str | None = None
                  ) -> dict[str, Any]:
        """Open positions per account at their latest marks, with their weight in equity."""
        caller = require(principal, Role.VIEWER)
        as_of = iso(time.time_ns())
        marks_at = {s: iso(b.quote.ts) for s, b in self.kernel.state.venue.books.items()
                    if b.quote is not None}
        result = []
        for account in self._accounts(caller, account_id):
            equity = account.equity
            rows = []
            for p in account.positions.values():
                if not p.qty:
                    continue
                row = position_view(account, p)
                row["mark_at"] = marks_at.get(p.symbol)
                row["weight_pct"] = None if equity <= _ZERO else text_at(
                    p.market_value / equity * _HUNDRED, _CENT)
                rows.append(row)
            result.append({"account_id": account.id, "equity": money(equity), "positions": rows})
        return {"as_of": as_of, "accounts": result}

    def performance(self, principal: Principal | None, account_id: str | None = None
                    ) -> dict[str, Any]:
        """Performance so far per account: return since start, today's P&L against the day's
        start and peak equity, the drawdown from that peak, realised/unrealised P&L and costs.

        Percentages are of the figure named (start cash, day-start equity, day-peak equity).
        """
        caller = require(principal, Role.VIEWER)
        rows = []
        for a in self._accounts(caller, account_id):
            equity = a.equity
            rows.append({
                "account_id": a.id, "currency": a.currency, "start_cash": money(a.start_cash),
                "equity": money(equity),
                "return_since_start_pct": _pct(equity - a.start_cash, a.start_cash),
                "realized_pnl": money(a.realized_pnl), "unrealized_pnl": money(a.unrealized_pnl),
                "commissions": money(a.commissions),
                "day_start_equity": money(a.day_start_equity), "daily_pnl": money(a.daily_pnl),
                "daily_return_pct": _pct(a.daily_pnl, a.day_start_equity),
                "day_peak_equity": money(a.day_peak_equity),
                "drawdown_from_peak_pct": _pct(equity - a.day_peak_equity, a.day_peak_equity),
                "trading_state": a.state.value})
        return {"as_of": iso(time.time_ns()), "accounts": rows}


def _pct(part: Decimal, whole: Decimal) -> str | None:
    """part / whole in percent, 4 places; None when whole is not positive."""
    if whole <= _ZERO:
        return None
    return text_at(part / whole * _HUNDRED, _PCT)
