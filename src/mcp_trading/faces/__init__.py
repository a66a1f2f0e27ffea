"""The faces of the services: the shared REST and MCP machinery."""
