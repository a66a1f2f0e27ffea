"""Service functions: the one implementation behind both faces (REST routes and MCP tools)."""
