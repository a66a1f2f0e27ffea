"""Strategies: the API a strategy is written against, indicators, built-ins, the loader and
the vectorised fast path. Imports only the standard library, numpy and the domain (a
contract in pyproject), so the backtest runner and the live runner share it unchanged."""

__all__: list[str] = []
