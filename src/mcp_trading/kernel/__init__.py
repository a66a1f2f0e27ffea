"""The trading kernel: the single writer of orders, fills, positions, cash and trading state."""

__all__: list[str] = []  # a namespace: its modules are the surface
