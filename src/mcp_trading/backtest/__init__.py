"""Backtests: the event-driven engine, parameter sweeps and walk-forward analysis."""

__all__: list[str] = []  # a namespace: its modules are the surface
