"""Adapters: the store, the bus, market-data providers and notifiers behind the kernel's ports."""

__all__: list[str] = []  # a namespace: its modules are the surface
