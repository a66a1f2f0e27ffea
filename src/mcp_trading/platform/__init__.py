"""The platform: the runbook's services (REST now, MCP next) around one trading kernel."""

__all__ = ["SERVICES"]

#: The runbook's services, in start order (a light module: the CLI reads it without loading
#: the platform).
SERVICES = ("market-data", "providers", "trading-engine", "orders", "risk", "portfolio", "alerts")
