"""Rebalances: preview an account's move to target weights, then confirm it (trader).

Preview: the target (weights, a stored run's weights, or an optimize request run now) is
sized into orders (plan.py) and each is dry-run through `Kernel.check`. Nothing is placed.
The preview is stored (runs.py) with the exact order list, whom it was issued to and the
sha256 of a confirmation token that is answered once and lives 10 minutes.

Confirm: the token must match, be unexpired and come from the credential it was issued to;
the preview is claimed (a second confirm finds it taken). Every order is checked again on
the event loop, the buys against the account as it will be after the sells (buying power
plus the sells' proceeds at the current prices less the preview's `proceeds_margin`); if any
would be refused, none is placed (403 REBALANCE_REFUSED, per order why). Otherwise the sells
are placed, the confirm waits up to `fill_wait_s` for them to fill, and then the buys are
checked against the account as it now is and placed (placement.py), all with the
attribution `optimizer:<run id>` (`optimizer:preview:<id>` for plain weights). A sell that
does not fill in time (a latency model without quotes, a limit away from the market) has
its remainder canceled and no buy is placed: `status: incomplete`, with each order's
outcome and a `summary`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    RefusedError,
    UnavailableError,
)
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.optimizer.inputs import ConfirmBody, RebalanceBody, parse_body
from mcp_trading.services.optimizer.placement import place
from mcp_trading.services.optimizer.plan import check_plan, plan_orders
from mcp_trading.services.views import iso

if TYPE_CHECKING:
    from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["PREVIEW_TTL_S", "confirm", "preview"]

PREVIEW_TTL_S = 600.0
_NS = 1_000_000_000


def _owner(caller: Principal) -> str:
    return caller.key_id or f"name:{caller.name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _target(svc: OptimizerService, caller: Principal, body: RebalanceBody
                  ) -> tuple[dict[str, Decimal], str | None]:
    given = [n for n in ("weights", "run_id", "optimize") if getattr(body, n) is not None]
    if len(given) != 1:
        raise InvalidError("give exactly one target: weights, run_id or optimize; got "
                           f"{', '.join(given) or 'none'}", code="INVALID_REBALANCE",
                           field=given[-1] if given else "weights")
    if body.weights is not None:
        weights = {k.strip().upper(): Decimal(repr(v)) for k, v in body.weights.items()}
        total = sum(weights.values(), Decimal(0))
        if total > Decimal("1.000000001") or any(abs(w) > 1 for w in weights.values()):
            raise InvalidError(f"weights: they sum to {total}; target weights are fractions of "
                               "the account's equity summing to at most 1 (the rest stays "
                               "cash)", code="INVALID_REBALANCE", field="weights")
        return weights, None
    if body.run_id is not None:
        stored = await svc.run(caller, body.run_id)
        result = stored["result"]
        if "weights" not in result:
            raise InvalidError(f"run_id: run {body.run_id} ({result.get('kind')}) has no "
                               "weights; use an optimize run", code="INVALID_REBALANCE",
                               field="run_id")
        return {s: Decimal(w) for s, w in result["weights"].items()}, body.run_id
    assert body.optimize is not None
    current = await svc.current_weights_of(caller, body.optimize)
    result = await asyncio.to_thread(svc.optimize_now, body.optimize, current)
    return {s: Decimal(w) for s, w in result["weights"].items()}, str(result["run_id"])


async def preview(svc: OptimizerService, principal: Principal | None,
                  raw: Mapping[str, Any]) -> dict[str, Any]:
    """The order list that moves the account to the target, each with its dry run."""
    caller = require(principal, Role.TRADER)
    body = parse_body(RebalanceBody, raw)
    target, run_id = await _target(svc, caller, body)
    kernel = svc.kernel()
    account_id = resolve_account(caller, body.account, svc.default_account)
    account = kernel.state.accounts.get(account_id)
    if account is None:
        raise InvalidError(f"account: {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                           field="account")
    orders, skipped, equity = plan_orders(
        kernel, account, target, min_trade_notional=Decimal(repr(body.min_trade_notional)),
        order_type=body.order_type)
    margin = Decimal(repr(body.proceeds_margin))
    verdicts = check_plan(kernel, account_id, orders, margin=margin)
    preview_id = uuid.uuid4().hex
    token = "rbl_" + secrets.token_urlsafe(24)
    now = time.time_ns()
    expires = now + int(PREVIEW_TTL_S * _NS)
    attribution = f"optimizer:{run_id}" if run_id else f"optimizer:preview:{preview_id}"
    for i, o in enumerate(orders):
        o["order"]["client_order_id"] = f"opt-{preview_id[:20]}-{i}"
    listed = [{**o, **v} for o, v in zip(orders, verdicts, strict=True)]
    payload = {"orders": orders, "attribution": attribution, "equity": str(equity),
               "proceeds_margin": str(margin)}
    await asyncio.to_thread(svc.store().save_preview, {
        "id": preview_id, "created_ns": now, "expires_ns": expires, "owner": _owner(caller),
        "token_sha256": _digest(token), "account_id": account_id, "run_id": run_id,
        "state": "open", "payload": payload})
    return {"preview_id": preview_id, "confirmation_token": token, "expires_at": iso(expires),
            "valid_s": PREVIEW_TTL_S, "account_id": account_id, "run_id": run_id,
            "attribution": attribution, "equity": str(equity),
            "would_accept_all": all(v["would_accept"] for v in verdicts),
            "orders": listed, "skipped": skipped,
            "confirm": f"POST /rebalance/{preview_id}/confirm with the confirmation_token",
            "proceeds_margin": str(margin),
            "notes": ["nothing is placed until the same list is confirmed; at confirm every "
                      "order is checked again (the buys against buying power plus the sells' "
                      f"proceeds less a {margin * 100:g} % margin) and none is placed if any "
                      "would be refused; the sells go first and the buys only once the sells "
                      "have filled (confirm's fill_wait_s, default 5 s), else the unfilled "
                      "sells are canceled and no buy is placed"]}


def _verify(row: Mapping[str, Any], caller: Principal, token: str) -> None:
    if row["owner"] != _owner(caller):
        raise ForbiddenError("confirmation_token: this preview was issued to another "
                             "credential; confirm it with the key that asked for it",
                             code="CONFIRMATION_MISMATCH", field="confirmation_token")
    if not hmac.compare_digest(row["token_sha256"], _digest(token)):
        raise InvalidError("confirmation_token: it is not the token this preview answered",
                           code="CONFIRMATION_MISMATCH", field="confirmation_token")
    if row["state"] != "open":
        raise ConflictError(f"preview {row['id']} is already {row['state']}; make a new one "
                            "(POST /rebalance)", code="PREVIEW_USED", field="preview_id",
                            extra={"answer": row.get("answer")})
    if time.time_ns() >= row["expires_ns"]:
        raise InvalidError(f"confirmation_token: it expired at {iso(row['expires_ns'])} "
                           f"(previews live {PREVIEW_TTL_S:g} s); preview again",
                           code="CONFIRMATION_EXPIRED", field="confirmation_token")


async def confirm(svc: OptimizerService, principal: Principal | None, preview_id: str,
                  raw: Mapping[str, Any]) -> dict[str, Any]:
    """Place the previewed list all or none (module docstring)."""
    caller = require(principal, Role.TRADER)
    body = parse_body(ConfirmBody, raw)
    core = svc.core
    if core is not None and (reason := core.unavailable_reason()) is not None:
        raise UnavailableError(reason, code="UNAVAILABLE")
    store = svc.store()
    row = await asyncio.to_thread(store.get_preview, preview_id)
    _verify(row, caller, body.confirmation_token)
    if not await asyncio.to_thread(store.move_preview, preview_id, "open", "claimed"):
        raise ConflictError(f"preview {preview_id} was confirmed by another request",
                            code="PREVIEW_USED", field="preview_id")
    placed = await place(svc, row, fill_wait_s=body.fill_wait_s)
    answer = {"preview_id": preview_id, "account_id": row["account_id"],
              "attribution": row["payload"]["attribution"], **placed}
    if answer["placed"] and core is not None:
        await core.durable()
    final = "refused" if answer["status"] == "refused" else "confirmed"
    await asyncio.to_thread(store.move_preview, preview_id, "claimed", final, answer)
    if answer["status"] == "refused":
        refused = [o for o in answer["orders"] if not o["would_accept"]]
        first = refused[0] if refused else {}
        raise RefusedError(f"no order was placed: {len(refused)} of {len(answer['orders'])} "
                           f"would be refused (first: {first.get('symbol')} "
                           f"{first.get('code')}: {first.get('message')})",
                           code="REBALANCE_REFUSED", extra={"orders": answer["orders"],
                                                            "preview_id": preview_id})
    return answer
