"""Which recipient lists an alert goes to, by kind and severity (the alerting file's
`[routing]`; see services/alerts/alerting_file.py).

Every route whose kinds and severities both match adds its list; an alert no route matches
goes to the default list, when its severity is among `default_severities`. A kind pattern
is a shell glob (`security*`); an empty pattern list matches everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from mcp_trading.platform.alert_center import Alert, Severity

__all__ = ["Route", "Routing"]

_ALL = tuple(Severity)


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    to: str  # a recipient list: ops-team, trading-desk, security-team, ...
    kinds: tuple[str, ...] = ()  # globs; () = every kind
    severities: tuple[Severity, ...] = _ALL

    def matches(self, alert: Alert) -> bool:
        kind_ok = not self.kinds or any(fnmatchcase(alert.kind, k) for k in self.kinds)
        return kind_ok and alert.severity in self.severities


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    routes: tuple[Route, ...]
    default: str = "ops-team"
    default_severities: tuple[Severity, ...] = _ALL

    @classmethod
    def standard(cls) -> Routing:
        """The runbook's lists: halts, resumes and maintenance to the trading desk, security
        and authentication kinds to the security team, everything else to operations."""
        return cls(routes=(Route(to="trading-desk", kinds=("halt", "resume", "maintenance")),
                           Route(to="security-team", kinds=("security*", "auth*"))))

    def lists(self, alert: Alert) -> list[str]:
        """The lists the alert goes to, in route order, each once."""
        found = [r.to for r in self.routes if r.matches(alert)]
        if not found and alert.severity in self.default_severities:
            found = [self.default]
        return list(dict.fromkeys(found))
