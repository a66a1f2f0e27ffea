"""Market-data provider adapters: one shape (`base.py`), the circuit breaker, the rate limiter
and the adapters (Alpha Vantage; the simulator's lives with the providers service, which owns
the quote pump it reports on)."""

__all__: list[str] = []
