"""How the platform runs: embedded runner, serve, supervisor, distributed launcher."""

__all__: list[str] = []  # a namespace: its modules are the surface
