"""A suspected breach: the response steps, each run on its own and recorded with its outcome.

    run_steps(steps, log, …)   run (name, action) pairs in order; every one runs, each
                               outcome (ok or failed, and what it did) goes to emergency.log
    revoke_keys(settings, ids) revoke every active API key, or the ids named
    rotate_jwt_now(settings)   a new JWT signing key with no grace (security/rotation.py)
    send_alert(settings, …)    a critical `security_breach` alert: log, webhooks, e-mail

The steps of `mcp-trading incident breach` (cli/incident.py) are, in order: halt (with every
working order cancelled, atomically), revoke keys, rotate the JWT key, collect evidence,
alert. The halt comes first so that nothing a stolen credential placed can fill, and before
the revocation, which ends the operator's own key too (access comes back with
`mcp-trading keys create` on the host: the key store is local). A step that fails is
recorded and the others still run; the caller's exit code says whether all succeeded.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mcp_trading.config import Settings
from mcp_trading.platform.alert_center import EmergencyLog

__all__ = ["StepOutcome", "revoke_keys", "rotate_jwt_now", "run_steps", "send_alert"]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    step: str
    ok: bool
    detail: str  # what it did, or why it failed and what to do

    def view(self) -> dict[str, object]:
        return {"step": self.step, "ok": self.ok, "detail": self.detail}


def run_steps(steps: Sequence[tuple[str, Callable[[], str]]], log: EmergencyLog, *,
              actor: str, reason: str, progress: Callable[[str], None] | None = None
              ) -> list[StepOutcome]:
    """Run every step in order (a failure does not stop the next); each outcome is appended
    to the emergency log as `breach-<step>` before the next step starts."""
    outcomes: list[StepOutcome] = []
    for name, action in steps:
        if progress is not None:
            progress(name)
        try:
            outcome = StepOutcome(name, True, action())
        except Exception as exc:  # recorded, and the response goes on
            outcome = StepOutcome(name, False, str(exc) or type(exc).__name__)
        outcomes.append(outcome)
        log.append(f"breach-{name}", actor=actor, reason=reason,
                   outcome="ok" if outcome.ok else "failed", detail=outcome.detail)
    return outcomes


def revoke_keys(settings: Settings, ids: Sequence[str] | None) -> str:
    """Revoke every active key (ids=None) or the ones named; raises naming unknown ids after
    revoking the known ones."""
    from mcp_trading.adapters.store import upgrade
    from mcp_trading.adapters.store.engine import create_store_engine
    from mcp_trading.security.keys import KeyStore

    url = settings.resolved_database_url
    upgrade(url)
    engine = create_store_engine(url)
    try:
        keys = KeyStore(engine, legacy_account=settings.default_account)
        if ids is None:
            revoked = [r.id for r in keys.revoke_all()]
            return (f"revoked all {len(revoked)} active keys" if revoked else
                    "no active key to revoke") + (": " + ", ".join(revoked) if revoked else "")
        done, unknown = [], []
        for key_id in ids:
            try:
                keys.revoke(key_id)
                done.append(key_id)
            except LookupError:  # UnknownKeyError
                unknown.append(key_id)
    finally:
        engine.dispose()
    if unknown:
        raise LookupError(f"revoked {len(done)} of {len(ids)} keys; unknown ids: "
                          f"{', '.join(unknown)} (`mcp-trading keys list` shows the ids)")
    return f"revoked {len(done)} keys: {', '.join(done)}"


def rotate_jwt_now(settings: Settings) -> str:
    """A new JWT signing key, tokens signed with the old one refused at once (grace 0)."""
    try:  # by name: the module may be missing from this build, and the step says so
        rotation = importlib.import_module("mcp_trading.security.rotation")
    except ModuleNotFoundError:
        raise RuntimeError("JWT rotation not available in this version (no "
                           "mcp_trading.security.rotation): JWTs stay valid until they expire "
                           "or their key is revoked; change JWT_SECRET and restart") from None
    answer: dict[str, object] = rotation.rotate_jwt(settings, grace_s=0.0)
    return (f"new JWT signing key {answer.get('kid')} at {answer.get('rotated_at')}; every "
            "token signed before it is refused now (no grace)")


def send_alert(settings: Settings, reason: str, outcomes: Sequence[StepOutcome]) -> str:
    """A critical `security_breach` alert to the log, the webhooks and (when SMTP is set)
    the security-team list; raises when a configured channel failed."""
    return asyncio.run(_alert(settings, reason, outcomes))


async def _alert(settings: Settings, reason: str, outcomes: Sequence[StepOutcome]) -> str:
    from prometheus_client import REGISTRY

    from mcp_trading.platform.alert_center import AlertCenter, Severity
    from mcp_trading.platform.notify_email import EmailNotifier

    failed = [o.step for o in outcomes if not o.ok]
    summary = "; ".join(f"{o.step}: {'ok' if o.ok else 'FAILED'}" for o in outcomes)
    center = AlertCenter(webhooks=settings.webhook_urls)
    mail = EmailNotifier(settings) if settings.smtp_host else None
    mail_failures = "mcp_trading_alert_email_failures_total"
    before = REGISTRY.get_sample_value(mail_failures) or 0.0
    if mail is not None:
        mail.start()
    alert = center.raise_alert(
        "security_breach", f"suspected breach: {reason} ({summary})", severity=Severity.CRITICAL,
        source="incident", details={"steps": [o.view() for o in outcomes], "failed": failed})
    if mail is not None:
        mail.notify(alert)
        await mail.stop()
    await center.drain()
    channels = ["log"]
    if settings.webhook_urls:
        channels.append(f"{len(settings.webhook_urls)} webhooks")
    if mail is not None:
        channels.append("e-mail (security-team)")
    problems = []
    if center.webhook_failures:
        problems.append(f"{center.webhook_failures} webhook deliveries failed")
    if (REGISTRY.get_sample_value(mail_failures) or 0.0) > before:
        problems.append("the alert e-mail was not delivered (see the log)")
    if problems:
        raise RuntimeError("alert raised but " + "; ".join(problems))
    return "critical security_breach alert sent to " + ", ".join(channels)
