"""The registry: every service of the platform, in start order, each declared once.

    specs()          the ServiceSpec of every service, in start order
    names()          their names
    get(name)        one spec (UnknownServiceError names the known ones)
    registered(spec) a context manager adding a service (tests, plug-ins)

Each service declares itself in its package (`services/<name>/__init__.py: SPEC`); this
module lists them. Cheap to import: no FastAPI, MCP or SQLAlchemy (the CLI reads it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mcp_trading.domain.errors import NotFoundError
from mcp_trading.services import (
    alerts,
    market_data,
    optimizer,
    orders,
    portfolio,
    providers,
    risk,
    strategies,
    trading_engine,
)
from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["BUILTIN", "ServiceSpec", "TaskSpec", "UnknownServiceError", "get", "names",
           "registered", "specs"]

#: the platform's own services, in start order (each starts after what it depends on)
BUILTIN: tuple[ServiceSpec, ...] = (market_data.SPEC, providers.SPEC, trading_engine.SPEC,
                                    orders.SPEC, risk.SPEC, portfolio.SPEC, strategies.SPEC,
                                    optimizer.SPEC, alerts.SPEC)
_extra: list[ServiceSpec] = []


class UnknownServiceError(NotFoundError, ValueError):
    """No service of that name is registered (a ValueError too: CLI callers catch that)."""

    code = "UNKNOWN_SERVICE"


def specs() -> tuple[ServiceSpec, ...]:
    return BUILTIN + tuple(_extra)


def names() -> tuple[str, ...]:
    return tuple(s.name for s in specs())


def get(name: str) -> ServiceSpec:
    for spec in specs():
        if spec.name == name:
            return spec
    raise UnknownServiceError(f"service {name!r} is not known; known: {', '.join(names())}")


def _check(spec: ServiceSpec, known: tuple[ServiceSpec, ...]) -> None:
    taken = {s.name for s in known}
    if spec.name in taken:
        raise ValueError(f"service {spec.name!r} is already registered")
    missing = [d for d in spec.depends_on if d not in taken]
    if missing:
        raise ValueError(f"{spec.name} depends on {', '.join(missing)}, which is not registered "
                         "(register it first)")
    if spec.distributed == "engine":
        raise ValueError(f"{spec.name}: there is one engine (trading-engine)")


@contextlib.contextmanager
def registered(spec: ServiceSpec) -> Iterator[ServiceSpec]:
    """Add `spec` (after every registered service) for the duration of the block."""
    _check(spec, specs())
    _extra.append(spec)
    try:
        yield spec
    finally:
        _extra.remove(spec)


def _verify_builtin() -> None:
    seen: tuple[ServiceSpec, ...] = ()
    for spec in BUILTIN:
        if spec.name in {s.name for s in seen}:
            raise ValueError(f"service {spec.name!r} is declared twice")
        missing = [d for d in spec.depends_on if d not in {s.name for s in seen}]
        if missing:
            raise ValueError(f"{spec.name} starts before {', '.join(missing)}, which it depends on")
        seen += (spec,)
    engines = [s.name for s in BUILTIN if s.distributed == "engine"]
    if len(engines) != 1:
        raise ValueError(f"exactly one service must be the engine; found {engines}")


_verify_builtin()
