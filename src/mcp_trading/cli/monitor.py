"""`mcp-trading monitor`: the runbook's performance monitoring report (performance_monitor.sh)
— host figures, each service's /health answer time, the stores' figures (dataops/monitor.py).

Exit 0 when every service answered healthy, 1 when one is degraded or down (so a cron job or
a monitoring agent can act on it), 2 for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mcp_trading.config import Settings

__all__ = ["monitor", "register"]

console = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _mib(value: Any) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MiB"


def _print(report: dict[str, Any]) -> None:
    h = report["host"]
    console.print(f"System: CPU {h['cpu_percent']:.1f} % of {h['cpus']} cores, memory "
                  f"{h['memory_percent']:.1f} %, disk {h['disk_percent']:.1f} % "
                  f"({_mib(h['disk_free_bytes'])} free), load "
                  f"{' '.join(str(x) for x in h['load_average'])}")
    services = Table("service", "url", "status", "/health ms")
    for s in report["services"]:
        ms = "-" if s["response_ms"] is None else f"{s['response_ms']:.1f}"
        colour = "green" if s["status"] == "healthy" else "red"
        services.add_row(s["service"], s["url"], f"[{colour}]{s['status']}[/{colour}]", ms)
    console.print(services)
    stores = Table("store", "kind", "figures")
    for st in report["stores"]:
        if "error" in st:
            figures = f"[red]{st['error']}[/red]"
        elif st.get("kind") == "sqlite":
            figures = f"size {_mib(st['size_bytes'])}, WAL {_mib(st['wal_bytes'])}"
        else:
            figures = (f"{st['active_connections']} active of {st['connections']} connections, "
                       f"size {_mib(st['size_bytes'])}")
        stores.add_row(str(st.get("store") or "-"), str(st.get("kind", "-")), figures)
    console.print(stores)


def monitor(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Host figures, each service's /health answer time and the stores' figures."""
    from mcp_trading.cli.ops import _base_urls, _running
    from mcp_trading.dataops.monitor import host_figures, service_times, store_figures

    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    record = _running(settings)
    services = service_times(_base_urls(settings, record))
    unhealthy = [s["service"] for s in services if s["status"] != "healthy"]
    report = {"running": record is not None, "host": host_figures(settings),
              "services": services, "stores": store_figures(settings), "unhealthy": unhealthy}
    if as_json:
        print(json.dumps(report))
    else:
        _print(report)
    if unhealthy:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
