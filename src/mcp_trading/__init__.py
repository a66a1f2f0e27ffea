"""MCP Trading Platform: a trading kernel with REST and MCP faces."""

__all__ = ["__version__"]

__version__ = "0.1.0"
