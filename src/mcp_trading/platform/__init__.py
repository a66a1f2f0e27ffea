"""The platform: the runbook's services (REST now, MCP next) around one trading kernel."""
