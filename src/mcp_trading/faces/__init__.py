"""The faces of the services: the shared REST and MCP machinery."""

__all__: list[str] = []  # a namespace: its modules are the surface
