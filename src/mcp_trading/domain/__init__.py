"""The pure domain: standard library only, Decimal for money and quantities, time passed in."""

__all__: list[str] = []  # a namespace: its modules are the surface
