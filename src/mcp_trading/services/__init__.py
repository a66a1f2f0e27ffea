"""Service functions: the one implementation behind both faces (REST routes and MCP tools)."""

__all__: list[str] = []  # a namespace: its modules are the surface
