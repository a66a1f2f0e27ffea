"""The alerting file (TOML): routing of alert e-mail, the alert rules, the escalation matrix.

`load_alerting(path, lists=...)` reads and checks it whole: a mistake raises
`AlertingFileError` naming the file, the rule (or section) and the field, before anything
starts. `path` None reads the shipped default, `mcp_trading/data/alerts/alerting.toml`
(commented: the reference for the format). `lists` are the recipient lists the settings
know (config_alerts.py); a contact with an `@` is an address.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mcp_trading.domain.errors import TradingError
from mcp_trading.platform.alert_center import Severity
from mcp_trading.platform.alert_routing import Route, Routing
from mcp_trading.services.alerts.escalation import Escalation, EscalationLevel
from mcp_trading.services.alerts.rules import METRICS, Rule

__all__ = ["AlertingConfig", "AlertingFileError", "default_path", "load_alerting",
           "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_TOP = ("evaluate_every", "routing", "escalation", "rules")
_RULE = ("name", "metric", "above", "for", "severity", "repeat", "message")


class AlertingFileError(TradingError, ValueError):
    """The alerting file cannot be used: the message names the rule and field to fix."""

    code = "ALERTING_FILE_INVALID"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertingConfig:
    routing: Routing
    escalation: Escalation
    rules: tuple[Rule, ...]
    evaluate_every_s: float = 10.0
    source: str = "default"


def default_path() -> Path:
    return Path(str(resources.files("mcp_trading") / "data" / "alerts" / "alerting.toml"))


def parse_duration(value: object) -> float:
    """Seconds from 90, 1.5, "30s", "5m", "1h" or "2d" (ValueError otherwise)."""
    if isinstance(value, bool):
        raise ValueError("a duration, not true/false")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value.strip())):
        seconds = float(m[1]) * _UNITS[m[2]]
    else:
        raise ValueError(f'must be seconds or like "30s", "5m", "1h", "2d"; got {value!r}')
    if seconds < 0:
        raise ValueError(f"must not be negative; got {value!r}")
    return seconds


class _Reader:
    """Reads one section; `fail(field, why)` raises naming the file, section and field."""

    def __init__(self, source: str, where: str, table: Mapping[str, Any],
                 allowed: Collection[str]) -> None:
        self.source, self.where, self.table = source, where, table
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            self.fail(unknown[0], f"not a field here; allowed: {', '.join(allowed)}")

    def fail(self, field: str, why: str) -> None:
        raise AlertingFileError(f"alerting file {self.source}: {self.where}: field '{field}': "
                                f"{why}", field=field)

    def get(self, field: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if field not in self.table:
            if default is None:
                self.fail(field, "is required")
            return default
        value = self.table[field]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.fail(field, f"has the wrong type ({type(value).__name__}: {value!r})")
        return value

    def duration(self, field: str, default: float) -> float:
        if field not in self.table:
            return default
        try:
            return parse_duration(self.table[field])
        except ValueError as exc:
            self.fail(field, str(exc))
        raise AssertionError  # fail() raised

    def severities(self, field: str) -> tuple[Severity, ...]:
        raw = self.get(field, list, list(Severity))
        try:
            return tuple(Severity(s) for s in raw)
        except ValueError:
            self.fail(field, f"each must be one of info, warning, critical; got {raw!r}")
        raise AssertionError

    def severity(self, field: str) -> Severity:
        raw = self.get(field, str, "warning")
        try:
            return Severity(raw)
        except ValueError:
            self.fail(field, f"must be info, warning or critical; got {raw!r}")
        raise AssertionError

    def strings(self, field: str, default: list[str] | None = None) -> tuple[str, ...]:
        raw = self.get(field, list, default)
        if not all(isinstance(s, str) and s for s in raw):
            self.fail(field, f"must be a list of non-empty strings; got {raw!r}")
        return tuple(raw)


def load_alerting(path: Path | None, *, lists: Collection[str]) -> AlertingConfig:
    source = str(path) if path is not None else "(shipped default)"
    file = path if path is not None else default_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AlertingFileError(f"alerting file {source}: cannot be read ({exc.strerror}); "
                                "fix MCP_TRADING_ALERTING_FILE", field="alerting_file") from None
    except tomllib.TOMLDecodeError as exc:
        raise AlertingFileError(f"alerting file {source}: not valid TOML ({exc})",
                                field="alerting_file") from None
    top = _Reader(source, "top level", data, _TOP)
    routing = _routing(source, top.get("routing", dict, {}), lists)
    escalation = _escalation(source, top.get("escalation", dict, {}), lists)
    rules = _rules(source, top.get("rules", list, []))
    every = top.duration("evaluate_every", 10.0)
    if every <= 0:
        top.fail("evaluate_every", "must be above 0")
    return AlertingConfig(routing=routing, escalation=escalation, rules=rules,
                          evaluate_every_s=every, source=source)


def _list_name(r: _Reader, field: str, name: str, lists: Collection[str]) -> str:
    if name not in lists:
        r.fail(field, f"{name!r} is not a recipient list; known: {', '.join(sorted(lists))}")
    return name


def _routing(source: str, table: Mapping[str, Any], lists: Collection[str]) -> Routing:
    r = _Reader(source, "[routing]", table, ("default", "default_severities", "routes"))
    default = _list_name(r, "default", r.get("default", str, "ops-team"), lists)
    routes = []
    for i, raw in enumerate(r.get("routes", list, [])):
        if not isinstance(raw, dict):
            r.fail("routes", f"entry {i} must be a table")
        rr = _Reader(source, f"route {i + 1} ([[routing.routes]])", raw,
                     ("to", "kinds", "severities"))
        routes.append(Route(to=_list_name(rr, "to", rr.get("to", str), lists),
                            kinds=rr.strings("kinds", []), severities=rr.severities("severities")))
    return Routing(routes=tuple(routes), default=default,
                   default_severities=r.severities("default_severities"))


def _escalation(source: str, table: Mapping[str, Any], lists: Collection[str]) -> Escalation:
    r = _Reader(source, "[escalation]", table, ("severities", "levels"))
    levels: list[EscalationLevel] = []
    for i, raw in enumerate(r.get("levels", list, [])):
        if not isinstance(raw, dict):
            r.fail("levels", f"entry {i} must be a table")
        lr = _Reader(source, f"escalation level entry {i + 1}", raw, ("level", "after", "contacts"))
        level = lr.get("level", int)
        lr.where = f"escalation level {level}"
        after = lr.duration("after", -1.0)
        if after < 0:
            lr.fail("after", "is required (e.g. \"15m\")")
        contacts = lr.strings("contacts")
        for c in contacts:
            if "@" not in c:
                _list_name(lr, "contacts", c, lists)
        if levels and (level <= levels[-1].level or after <= levels[-1].after_s):
            lr.fail("level", "levels must rise in both level and delay, in order")
        if level < 2:
            lr.fail("level", "must be 2 or more (level 1 is the alert's own routing)")
        levels.append(EscalationLevel(level=level, after_s=after, contacts=contacts))
    return Escalation(levels=tuple(levels), severities=r.severities("severities"))


def _rules(source: str, raw_rules: list[Any]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            _Reader(source, "top level", {}, _TOP).fail("rules", f"entry {i} must be a table")
        name = raw.get("name")
        where = f"rule {name!r}" if isinstance(name, str) else f"rule {i + 1} ([[rules]])"
        r = _Reader(source, where, raw, _RULE)
        name = r.get("name", str)
        if not _NAME.fullmatch(name):
            r.fail("name", "use lower-case letters, digits, '_' and '-' (it is the alert kind)")
        if any(rule.name == name for rule in rules):
            r.fail("name", "another rule has this name")
        metric = r.get("metric", str)
        if metric not in METRICS:
            r.fail("metric", f"{metric!r} is not measured; use one of {', '.join(METRICS)}")
        above = r.get("above", (int, float))
        rules.append(Rule(name=name, metric=metric, above=float(above),
                          for_s=r.duration("for", 0.0), severity=r.severity("severity"),
                          repeat_s=r.duration("repeat", 0.0),
                          message=r.get("message", str, "")))
    return tuple(rules)
