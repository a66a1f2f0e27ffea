"""The kernel's equity snapshots: each account's valuation, journaled (`EquitySnapshotted`).

A base of `KernelCommands` (kernel/commands.py), so the single writer values the book it
owns: `snapshot_equity` emits one event per customer account (internal ones, ids starting
with "_", are left out) with its cash, its open positions (qty != 0) at their marks and
equity = cash + sum of qty x mark, exactly (Decimals, no rounding). A position the kernel
has no mark for yet (no quote since it opened) is valued at its average entry price, as the
book carries it (`Position.market_value`), and that price is the mark recorded.

`day` is the trading day the valuation belongs to, in America/New_York: for the close
snapshot the session's own day; on demand the New York calendar date of `ts`.

The close snapshot (`reason` "close") is taken by the session roll (`_roll_session`), once
per session, before the day's orders expire: on the NYSE calendar at 16:00 New York (13:00
on early closes); on the always-open calendar at its session's end, 00:00 UTC (19:00 or
20:00 in New York, still the New York date of the session). The roll starts the next
session in the same command, and `state.closed_day` (set by replaying the close snapshot)
stops a restart between the two from valuing the same day twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.events import EquitySnapshotted

if TYPE_CHECKING:
    from mcp_trading.domain.accounts import Account
    from mcp_trading.domain.events import Event
    from mcp_trading.kernel.ports import Clock
    from mcp_trading.kernel.state import KernelState

__all__ = ["EQUITY_REASONS", "EquityCommands", "new_york_day", "valuation"]

EQUITY_REASONS = ("close", "manual")
_ZONE = ZoneInfo("America/New_York")
_NS = 1_000_000_000
_ZERO = Decimal(0)


def new_york_day(ts: int) -> str:
    """The ISO date in New York at `ts` (ns since the epoch)."""
    return datetime.fromtimestamp(ts // _NS, tz=_ZONE).date().isoformat()


def valuation(account: Account, *, day: str, reason: str, actor: str,
              ts: int) -> EquitySnapshotted:
    """One account's valuation now: open positions at their marks (average price if none)."""
    positions = []
    value = _ZERO
    for symbol in sorted(account.positions):
        p = account.positions[symbol]
        if p.qty == _ZERO:
            continue
        mark = p.mark if p.mark is not None else p.avg_entry_price
        positions.append((symbol, p.qty, mark))
        value += p.qty * mark
    return EquitySnapshotted(account.id, day, account.cash + value, account.cash,
                             tuple(positions), reason, actor, ts)


def _customer(account: Account) -> bool:
    return not (account.internal or account.id.startswith("_"))


class EquityCommands:
    """Equity snapshot commands of `Kernel`; a mixin, never used alone."""

    if TYPE_CHECKING:
        clock: Clock
        state: KernelState

        def _emit(self, event: Event) -> None: ...
        def _account(self, account_id: str) -> Account: ...

    def snapshot_equity(self, *, reason: str, actor: str, ts: int | None = None,
                        account_id: str | None = None, day: str | None = None
                        ) -> list[EquitySnapshotted]:
        """Journal the valuation of one customer account, or of every one; returns them.

        `day` defaults to the New York date of `ts` (default: the clock's now)."""
        if reason not in EQUITY_REASONS:
            raise InvalidError(f"reason: {reason!r} is not one of {', '.join(EQUITY_REASONS)}",
                               field="reason")
        if account_id is not None:
            account = self._account(account_id)
            if not _customer(account):
                raise InvalidError(f"account_id: {account_id!r} is the platform's own; "
                                   "snapshot a trading account", field="account_id")
            accounts = [account]
        else:
            accounts = [a for _, a in sorted(self.state.accounts.items()) if _customer(a)]
        at = self.clock.now_ns() if ts is None else ts
        the_day = day or new_york_day(at)
        snaps = [valuation(a, day=the_day, reason=reason, actor=actor[:200], ts=at)
                 for a in accounts]
        for snap in snaps:
            self._emit(snap)
        return snaps

    def _close_snapshot(self, day: str, ts: int) -> None:
        """The session close's valuation of every customer account, once per session day."""
        if self.state.closed_day == day:
            return  # valued before a restart that came before the roll finished
        self.snapshot_equity(reason="close", actor="platform", ts=ts, day=day)
        self.state.closed_day = day  # no account to value leaves no event: mark it here too
