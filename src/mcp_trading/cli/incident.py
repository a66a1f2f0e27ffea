"""`mcp-trading incident ...`: the runbook's incident verbs (`report`: cli/incident_report.py)."""

from __future__ import annotations

import typer

from mcp_trading.cli.incident_report import add_commands as add_report

__all__ = ["incident_app", "register"]

incident_app = typer.Typer(help="Incidents: the post-incident report.", no_args_is_help=True)
add_report(incident_app)


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
