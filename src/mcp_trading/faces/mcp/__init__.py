"""The MCP faces of the services: typed tools over the same service functions as REST."""

from mcp_trading.faces.mcp.server import attach_mcp, build_server, mcp_lifespan

__all__ = ["attach_mcp", "build_server", "mcp_lifespan"]
