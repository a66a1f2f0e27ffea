"""Distributed mode: one process per service over PostgreSQL (the journal) and Redis (the bus).

The trading engine is the only writer; it publishes every durable journal record. Every other
service keeps a read-only replica of the kernel's state folded from those records, forwards
commands to the engine, and follows the quotes the market-data service publishes.
"""

__all__: list[str] = []  # a namespace: its modules are the surface
