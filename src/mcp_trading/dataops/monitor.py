"""The performance monitor's figures (runbook: Monitoring and Alerting, performance_monitor.sh):
the host, each service's /health answer time, and the stores in use.

- host: CPU percent over `cpu_interval_s`, memory percent, the data directory's disk percent
  and free bytes, the 1/5/15-minute load average;
- services: per registered service, its `/health` status and answer time in ms (a service
  that does not answer within 5 s is "down", with the error's kind);
- stores: SQLite — each file's size and its WAL's size; PostgreSQL — the connections to the
  platform's database, active and in all (`pg_stat_activity`), and the database's size.

Read-only. Framework-free: the URLs come from the caller (the CLI reads the PID record).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import httpx
import psutil
import psycopg

from mcp_trading.config import Settings
from mcp_trading.dataops.pgadmin import libpq_url
from mcp_trading.dataops.sources import sources_of
from mcp_trading.domain.errors import InvalidError

__all__ = ["host_figures", "service_times", "store_figures"]

_PROBE_S = 5.0


def host_figures(settings: Settings, *, cpu_interval_s: float = 0.5) -> dict[str, Any]:
    where = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    disk = psutil.disk_usage(str(where.resolve()))
    load1, load5, load15 = os.getloadavg()
    return {"cpu_percent": psutil.cpu_percent(interval=cpu_interval_s),
            "cpus": psutil.cpu_count(),
            "memory_percent": psutil.virtual_memory().percent,
            "disk_percent": disk.percent, "disk_free_bytes": disk.free,
            "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)]}


def service_times(urls: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    with httpx.Client(timeout=_PROBE_S) as client:
        for name, url in urls.items():
            started = time.perf_counter()
            try:
                response = client.get(f"{url}/health")
                ms = (time.perf_counter() - started) * 1000
                status = response.json().get("status", "down") if response.status_code == 200 \
                    else "down"
                out.append({"service": name, "url": url, "status": status,
                            "response_ms": round(ms, 1)})
            except (httpx.HTTPError, ValueError) as exc:
                out.append({"service": name, "url": url, "status": "down",
                            "response_ms": None, "error": type(exc).__name__})
    return out


def store_figures(settings: Settings) -> list[dict[str, Any]]:
    try:
        sources = sources_of(settings)
    except InvalidError as exc:  # no journal yet, or an in-memory one
        return [{"store": None, "error": exc.message}]
    out: list[dict[str, Any]] = []
    for source in sources:
        if source.kind == "sqlite":
            assert source.path is not None
            wal = source.path.with_name(source.path.name + "-wal")
            out.append({"store": source.name, "kind": "sqlite", "roles": list(source.roles),
                        "size_bytes": source.path.stat().st_size,
                        "wal_bytes": wal.stat().st_size if wal.exists() else 0})
        else:
            out.append(_postgres(source.name, source.url, list(source.roles)))
    return out


def _postgres(name: str, url: str, roles: list[str]) -> dict[str, Any]:
    plain = libpq_url(url)
    try:
        with psycopg.connect(plain, connect_timeout=5) as conn:
            active, total = conn.execute(
                "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FROM "
                "pg_stat_activity WHERE datname = current_database()").fetchone() or (0, 0)
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    except psycopg.Error as exc:
        return {"store": name, "kind": "postgres", "roles": roles,
                "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    return {"store": name, "kind": "postgres", "roles": roles, "active_connections": active,
            "connections": total, "size_bytes": size[0] if size else None}
