"""`python -m mcp_trading` is the `mcp-trading` command."""

from mcp_trading.cli import app

app()
