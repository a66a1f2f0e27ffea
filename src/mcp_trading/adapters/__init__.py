"""Adapters: the store, the bus, market-data providers and notifiers behind the kernel's ports."""
