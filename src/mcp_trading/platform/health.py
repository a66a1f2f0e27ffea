"""The comprehensive health check: what must be true before trading may resume."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcp_trading.platform.platform import Platform

__all__ = ["Check", "FailingChecks", "comprehensive_checks", "failing_checks", "writer_status"]

#: the failing comprehensive checks, "name: detail" each
FailingChecks = Callable[[], list[str]]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def writer_status(platform: Platform) -> str:
    """The status of a service that answers from the journal's state: down without a writable
    journal (or while stopping), degraded while its views may lag (projections or disk failing)."""
    h = platform.health
    if not h.journal_ok or not platform.accepting:
        return "down"
    if not h.disk_ok or not h.projection_ok:
        return "degraded"
    return "healthy"


def comprehensive_checks(platform: Platform, services_up: dict[str, bool] | None = None
                         ) -> list[Check]:
    h = platform.health
    checks = [
        Check("journal", h.journal_ok, "writable" if h.journal_ok else f"failed: {h.journal_error}"),
        Check("feed", h.feed_status == "streaming",
              f"{h.feed_status}" + (f", newest quote {h.feed_age_s} s old" if h.feed_age_s is not None
                                    else "")),
        Check("disk", h.disk_ok, f"{h.disk_free_mb} MB free in the data directory "
                                 f"(minimum {platform.settings.min_free_disk_mb})"),
        Check("projections", h.projection_ok, "in step" if h.projection_ok else "failing"),
        Check("accepting", platform.accepting, "running" if platform.accepting else "stopping"),
    ]
    for service, up in (services_up or {}).items():
        checks.append(Check(f"service:{service}", up, "serving" if up else "not serving"))
    return checks


def failing_checks(platform: Platform, services_up: dict[str, bool] | None = None) -> list[str]:
    """The failing checks; the services are those the platform's runner reports
    (`platform.services_up`) unless `services_up` is given."""
    up = platform.services_up() if services_up is None else services_up
    return [f"{c.name}: {c.detail}" for c in comprehensive_checks(platform, up) if not c.ok]
