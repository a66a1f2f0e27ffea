"""Risk service functions: risk status, limits (read, change, audit), pre-trade dry run, exposures.

Framework-free: REST routes (and MCP tools) call these with a Principal and plain values.
Limit changes go through the kernel (journaled) and are audited in emergency.log and an alert;
the audit trail itself is read back from the journal's LimitsSet events.

Utilisation is value / limit in percent: gross exposure / max_gross_exposure, today's loss /
daily_loss_limit, drawdown from the day's peak / max_drawdown_pct, |position| /
max_position_qty. Account limits use the account's figures; global limits use the kernel's
platform-wide figures (what the kernel enforces them against).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import fields
from decimal import Context, Decimal
from typing import Any, NamedTuple

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import (
    DuplicateClientOrderIdError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)
from mcp_trading.domain.events import LimitsSet
from mcp_trading.domain.numbers import text_at, to_text
from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.domain.risk import InvalidLimitError, RiskLimits
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec
from mcp_trading.kernel.kernel import Kernel, PreTradeCheck
from mcp_trading.kernel.ports import JournalStore
from mcp_trading.platform.alert_center import Severity
from mcp_trading.security.access import (
    accounts_in_scope,
    require,
    require_running,
    resolve_account,
)
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.orders.service import closed_order_row
from mcp_trading.services.views import iso, money, order_row_view

__all__ = ["LIMIT_NAMES", "RISK_STATUSES", "LimitsAudit", "RiskService", "Usage", "account_usage"]

LIMIT_NAMES = tuple(f.name for f in fields(RiskLimits) if f.init)
RISK_STATUSES = ("ok", "warning", "breach")
WARN_PCT = Decimal(80)
_FULL = Decimal(100)
_ZERO = Decimal(0)
_PCT = Decimal("0.01")
_RATIO = Context(prec=28, traps=[])
_RISK_STATES = (TradingState.REDUCING, TradingState.HALTED)
_DEFAULT_WIRE = RiskLimits().to_wire()


class Usage(NamedTuple):
    """One limit's utilisation: the figure, the limit (None: not enforced)."""

    name: str
    value: Decimal
    limit: Decimal | None
    places: str = "0.01"

    @property
    def pct(self) -> Decimal | None:
        if self.limit is None:
            return None
        # untrapped: a limit journaled before input bounds existed (1e-999999999) gives a
        # huge or infinite ratio, not an exception
        ratio = _RATIO.multiply(_RATIO.divide(self.value, self.limit), _FULL)
        return ratio.quantize(_PCT) if ratio.is_finite() and ratio.adjusted() < 20 else ratio

    def view(self) -> dict[str, str | None]:
        pct = self.pct
        return {"value": money(self.value, self.places),
                "limit": None if self.limit is None else str(self.limit),
                "pct": None if pct is None else to_text(pct)}


def _drawdown(peak: Decimal, equity: Decimal) -> Decimal:
    peak = max(peak, equity)
    return (peak - equity) / peak * _FULL if peak > _ZERO else _ZERO


def _account_usage(account: Account) -> list[Usage]:
    limits = account.limits
    equity = account.equity
    usage = [
        Usage("max_gross_exposure", account.gross_value, limits.max_gross_exposure),
        Usage("daily_loss_limit", max(_ZERO, account.day_start_equity - equity), limits.daily_loss_limit),
        Usage("max_drawdown_pct", _drawdown(account.day_peak_equity, equity), limits.max_drawdown_pct),
    ]
    qty = max((abs(p.qty) for p in account.positions.values()), default=_ZERO)
    usage.append(Usage("max_position_qty", qty, limits.max_position_qty, "0.000001"))
    return usage


def account_usage(account: Account) -> list[Usage]:
    """Each of the account's limits with its utilisation (as GET /exposures shows it)."""
    return _account_usage(account)


def _global_usage(kernel: Kernel) -> list[Usage]:
    state = kernel.state
    limits = state.global_limits
    equity = state.equity
    qty = max((abs(q) for q in state.net_qty.values()), default=_ZERO)
    return [
        Usage("max_gross_exposure", state.gross_value, limits.max_gross_exposure),
        Usage("daily_loss_limit", max(_ZERO, state.platform_day_start - equity), limits.daily_loss_limit),
        Usage("max_drawdown_pct", _drawdown(state.platform_day_peak, equity), limits.max_drawdown_pct),
        Usage("max_position_qty", qty, limits.max_position_qty, "0.000001"),
    ]


def _qty(value: Decimal) -> str:
    text = to_text(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


class RiskService:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._audit = LimitsAudit()

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    def _accounts(self, caller: Principal | None, account_id: str | None) -> list[Account]:
        return accounts_in_scope(self.kernel.state.accounts, caller, account_id)

    # ---- status ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """risk_status: breach (a risk limit moved trading to reducing/halted, or a limit is
        exceeded), warning (a limit is >= 80 % used), ok otherwise; with the reasons."""
        state = self.kernel.state
        breaches: list[str] = []
        warnings: list[str] = []
        scopes: list[tuple[str, TradingState, str, list[Usage]]] = [
            ("platform", state.platform_state, state.platform_reason, _global_usage(self.kernel))]
        scopes += [(f"account {a.id}", a.state, a.state_reason, _account_usage(a))
                   for a in self._accounts(None, None)]
        for scope, level, reason, usage in scopes:
            if level in _RISK_STATES and reason.startswith("RISK_"):
                breaches.append(f"{scope} is {level.value}: {reason}")
            for use in usage:
                pct = use.pct
                if pct is None or pct < WARN_PCT:
                    continue
                text = (f"{scope}: {use.name} at {pct}% ({money(use.value, use.places)} of "
                        f"{use.limit})")
                (breaches if pct > _FULL else warnings).append(text)
        status = "breach" if breaches else "warning" if warnings else "ok"
        return {"risk_status": status, "reasons": breaches + warnings}

    # ---- limits ---------------------------------------------------------------------------
    def limits(self, principal: Principal | None, account_id: str | None = None) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        return {"global": self.kernel.state.global_limits.to_wire(),
                "accounts": {a.id: a.limits.to_wire() for a in self._accounts(caller, account_id)},
                "limit_names": list(LIMIT_NAMES)}

    async def set_limits(self, principal: Principal | None, account_id: str | None,
                         body: Mapping[str, Any]) -> dict[str, Any]:
        """Change limits (global when `account_id` is None); an invalid change changes nothing.

        `body` maps limit names to a number (or numeric string) or null (not enforced); an
        optional "reason" string is recorded in the audit trail.
        """
        caller = require(principal, Role.OPERATOR)
        require_running(self.core)
        changes = dict(body)
        reason = changes.pop("reason", None)
        if reason is not None and not isinstance(reason, str):
            raise InvalidError("reason: must be a string", code="INVALID_LIMIT", field="reason")
        allowed = {"allowed_limits": list(LIMIT_NAMES)}
        if not changes:
            raise InvalidError("the body must name at least one limit as "
                               "{name: number or null}; limits: " + ", ".join(LIMIT_NAMES),
                               code="INVALID_LIMIT", field="body", extra=allowed)
        if caller.account_id is not None and account_id != caller.account_id:
            raise ForbiddenError(f"this credential acts on account {caller.account_id!r} only",
                                 code="FORBIDDEN")
        kernel = self.kernel
        if account_id is None:
            current = kernel.state.global_limits
        else:
            account = kernel.state.accounts.get(account_id)
            if account is None:
                raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                                    field="account_id")
            current = account.limits
        try:
            current.updated(changes)
        except InvalidLimitError as exc:
            message = exc.message if "known limits" in exc.message else (
                f"{exc.message}; limits: {', '.join(LIMIT_NAMES)}")
            raise InvalidError(message, code=exc.code, field=exc.field, extra=allowed) from None
        before = current.to_wire()
        after = kernel.set_limits(account_id, changes, actor=caller.actor).to_wire()
        await self.core.durable()
        changed = _diff(before, after)
        scope = "global" if account_id is None else f"account {account_id}"
        why = reason or f"limits changed by {caller.actor}"
        self.core.emergency_log.append("limits-set", actor=caller.actor, reason=why,
                                           scope=scope, account_id=account_id, changed=changed)
        summary = ", ".join(f"{k} {v['from']} -> {v['to']}" for k, v in changed.items()) or "no change"
        self.core.alerts.raise_alert(
            "limits", f"{scope} limits set by {caller.actor}: {summary}", severity=Severity.INFO,
            source="risk", details={"scope": scope, "account_id": account_id, "changed": changed,
                                   "reason": why})
        self.core.metrics.alerts.labels("limits").inc()
        return {"scope": "global" if account_id is None else "account", "account_id": account_id,
                "limits": after, "changed": changed, "reason": why, "seq": kernel.seq}

    async def audit(self, principal: Principal | None, *, limit: int = 100) -> dict[str, Any]:
        """Every limit change in the journal, newest first."""
        require(principal, Role.VIEWER)
        if not 1 <= limit <= 1000:
            raise InvalidError(f"limit: must be between 1 and 1000, got {limit}", code="INVALID_QUERY",
                               field="limit")
        store = self.core.kernel_runtime.journal.store
        entries = await asyncio.to_thread(self._audit.entries, store)
        return {"entries": entries[::-1][:limit], "count": len(entries)}

    # ---- pre-trade dry run ----------------------------------------------------------------
    def check(self, principal: Principal | None, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Run every pre-trade check against the live state; nothing is placed or journaled.

        The decision is the kernel's own (`Kernel.check`, what submit acts on), so the answer
        is what a submit now would do: accepted or refused with its code, a 4xx for what is
        not an order, and for a repeated client_order_id with the same parameters the order
        placed before (a submit returns it; `idempotent_retry` names it).
        """
        caller = require(principal, Role.TRADER)
        fields_ = dict(payload)
        requested = fields_.pop("account_id", None)
        if requested is not None and not isinstance(requested, str):
            raise InvalidError("account_id: must be a string", code="INVALID_ORDER", field="account_id")
        kernel = self.kernel
        account_id = resolve_account(caller, requested, self.core.default_account)
        account = kernel.state.accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                                field="account_id")
        request = OrderRequest.parse(**fields_)
        try:
            verdict = kernel.check(account_id, request)
        except DuplicateClientOrderIdError as exc:  # submit: 409 with the same code
            return {"would_accept": False, "code": exc.code, "message": exc.message,
                    "reference_price": None, "reserve": "0.00",
                    **self._base(account, request, kernel.clock.now_ns())}
        result = verdict.result
        if result is None:
            return self._retry(verdict, account, request)
        refusal = result.refusal
        return {"would_accept": refusal is None,
                "code": None if refusal is None else refusal.code,
                "message": "the order passes every pre-trade check" if refusal is None
                else refusal.message,
                "reference_price": None if result.ref_price is None else str(result.ref_price),
                "reserve": money(result.reserve), **self._base(account, request, verdict.ts)}

    @staticmethod
    def _base(account: Account, request: OrderRequest, ts: int) -> dict[str, Any]:
        return {"account_id": account.id, "symbol": request.symbol, "checked_at": iso(ts),
                "buying_power": money(account.buying_power)}

    def _retry(self, verdict: PreTradeCheck, account: Account, request: OrderRequest
               ) -> dict[str, Any]:
        """A repeated client_order_id with the same parameters: a submit places nothing and
        answers with the order placed before (refused as before if it was rejected)."""
        if verdict.existing is not None:
            order_id = verdict.existing.id
            status = verdict.existing.status
            code, reason = verdict.existing.reject_code, verdict.existing.reject_reason
        else:
            assert verdict.closed_id is not None
            view = order_row_view(closed_order_row(self.core, verdict.closed_id, account.id))
            order_id, status = verdict.closed_id, view["status"]
            code, reason = view["reject_code"], view["reject_reason"]
        rejected = status == OrderStatus.REJECTED
        message = (f"client_order_id {request.client_order_id!r} is order {order_id} ({status}) "
                   "with these parameters: a submit places nothing new and returns that order")
        if rejected:
            message = f"{reason} ({message})"
        return {"would_accept": not rejected, "code": (code or "REJECTED") if rejected else None,
                "message": message, "reference_price": None, "reserve": "0.00",
                "idempotent_retry": {"order_id": order_id, "status": str(status)},
                **self._base(account, request, self.kernel.clock.now_ns())}

    # ---- exposures ------------------------------------------------------------------------
    def exposures(self, principal: Principal | None, account_id: str | None = None) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        accounts = self._accounts(caller, account_id)
        kernel = self.kernel
        state = kernel.state
        return {"as_of": iso(time.time_ns()),
                "accounts": [_account_exposure(a) for a in accounts],
                "total": _total_exposure(accounts, state.marks),
                "global": {"trading_state": state.platform_state.value,
                           "trading_state_reason": state.platform_reason,
                           "gross_exposure": money(state.gross_value),
                           "equity": money(state.equity),
                           "utilisation": {u.name: u.view() for u in _global_usage(kernel)}}}


def _diff(before: Mapping[str, str | None], after: Mapping[str, str | None]
          ) -> dict[str, dict[str, str | None]]:
    return {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}


def _account_exposure(account: Account) -> dict[str, Any]:
    positions = [p for p in account.positions.values() if p.qty]
    cap = account.limits.max_position_qty
    return {
        "account_id": account.id,
        "trading_state": account.state.value,
        "trading_state_reason": account.state_reason,
        "equity": money(account.equity),
        "gross_exposure": money(account.gross_value),
        "net_exposure": money(account.position_value),
        "long_market_value": money(sum((p.market_value for p in positions if p.qty > 0), _ZERO)),
        "short_market_value": money(sum((p.market_value for p in positions if p.qty < 0), _ZERO)),
        "daily_pnl": money(account.daily_pnl),
        "drawdown_pct": text_at(_drawdown(account.day_peak_equity, account.equity), _PCT),
        "symbols": [{"symbol": p.symbol, "qty": _qty(p.qty), "mark": None if p.mark is None
                     else str(p.mark), "market_value": money(p.market_value),
                     "max_position_qty": Usage("max_position_qty", abs(p.qty), cap,
                                               "0.000001").view()} for p in positions],
        "utilisation": {u.name: u.view() for u in _account_usage(account)},
    }


def _total_exposure(accounts: Iterable[Account], marks: Mapping[str, Decimal]) -> dict[str, Any]:
    gross = net = long_value = short_value = equity = _ZERO
    by_symbol: dict[str, tuple[Decimal, Decimal]] = {}
    for account in accounts:
        gross += account.gross_value
        net += account.position_value
        equity += account.equity
        for p in account.positions.values():
            if not p.qty:
                continue
            value = p.market_value
            if p.qty > 0:
                long_value += value
            else:
                short_value += value
            qty, mv = by_symbol.get(p.symbol, (_ZERO, _ZERO))
            by_symbol[p.symbol] = (qty + p.qty, mv + value)
    return {"equity": money(equity), "gross_exposure": money(gross), "net_exposure": money(net),
            "long_market_value": money(long_value), "short_market_value": money(short_value),
            "symbols": [{"symbol": s, "net_qty": _qty(q), "mark": None if (m := marks.get(s)) is None
                         else str(m), "market_value": money(v)}
                        for s, (q, v) in sorted(by_symbol.items())]}


class LimitsAudit:
    """The LimitsSet events of the journal, folded into audit entries by tailing the journal.

    Thread-safe; called off the event loop. Each call reads only the records appended since
    the previous one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._after = 0
        self._entries: list[dict[str, Any]] = []
        self._current: dict[str | None, dict[str, str | None]] = {}

    def entries(self, store: JournalStore) -> list[dict[str, Any]]:
        with self._lock:
            for rec in store.read(after_seq=self._after):
                for seq, event in codec.events((rec,)):
                    if isinstance(event, LimitsSet):
                        self._fold(seq, event)
                self._after = rec.seq
            return list(self._entries)

    def _fold(self, seq: int, event: LimitsSet) -> None:
        before = self._current.get(event.account_id, _DEFAULT_WIRE)
        self._current[event.account_id] = event.limits
        self._entries.append({
            "seq": seq, "ts": iso(event.ts), "actor": event.actor,
            "scope": "global" if event.account_id is None else "account",
            "account_id": event.account_id, "limits": dict(event.limits),
            "changed": _diff(before, event.limits)})
