"""`mcp-trading memory profile|leaks`: where the running platform's memory goes (runbook: High
Memory Usage; `python memory_profiler.py`, `python scripts/memory_leak_detector.py`).

Both trace each platform process through its admin-only `GET /admin/memory` (a tracemalloc
trace over an interval: platform/memory_trace.py) — embedded: the one process, through the
trading engine's port; distributed: every service's process, in parallel.

    memory profile [--interval 10] [--top 15]      RSS per process and the top growing sites
    memory leaks [--interval 60] [--threshold-mb-per-hour 50]
                                                    the same over a longer interval, with a
                                                    verdict: exit 1 when a process's RSS grew
                                                    faster than the threshold

The admin credential: `--key` / MCP_TRADING_API_KEY, else a temporary admin key created in the
local key store for this run and revoked after it (an operator on the host has the store).
Exit 2 when the platform is not running or an argument is bad.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from mcp_trading.config import Settings

__all__ = ["leaks", "memory_app", "profile"]

memory_app = typer.Typer(help="Where the running platform's memory goes: RSS per process and "
                              "the top growing allocation sites (tracemalloc).",
                         no_args_is_help=True)
console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Key = Annotated[str | None, typer.Option(
    "--key", envvar="MCP_TRADING_API_KEY", show_default=False,
    help="Admin API key (or MCP_TRADING_API_KEY); without one a temporary admin key is made "
         "in the local key store and revoked after the run.")]
Top = Annotated[int, typer.Option("--top", min=1, max=100, help="Growing sites to show.")]


@contextlib.contextmanager
def _admin_key(settings: Settings, given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    from mcp_trading.adapters.store.engine import create_store_engine
    from mcp_trading.security.keys import KeyStore
    from mcp_trading.security.principal import Role

    engine = create_store_engine(settings.resolved_database_url)
    keys = KeyStore(engine)
    record, plaintext = keys.create(Role.ADMIN, None, "memory-profiler (temporary)",
                                    all_accounts=True)
    try:
        yield plaintext
    finally:
        keys.revoke(record.id)
        keys.close()
        engine.dispose()


def _targets(settings: Settings) -> dict[str, str]:
    from mcp_trading.cli.ops import _base_urls, _running

    record = _running(settings)
    if record is None:
        err.print("[red]the platform is not running[/red] here: start it (`mcp-trading start`) "
                  "or give --data-dir")
        raise typer.Exit(2)
    urls = _base_urls(settings, record)
    if record.get("deployment") == "distributed":
        return urls
    return {"platform (every service, one process)": urls["trading-engine"]}


def _trace_all(settings: Settings, key: str | None, interval: float, top: int
               ) -> list[dict[str, Any]]:
    targets = _targets(settings)

    def one(item: tuple[str, str]) -> dict[str, Any]:
        name, url = item
        try:
            response = httpx.get(f"{url}/admin/memory", params={"interval_s": interval, "top": top},
                                 headers={"Authorization": f"Bearer {token}"},
                                 timeout=interval + 30)
        except httpx.HTTPError as exc:
            return {"process": name, "url": url, "error": type(exc).__name__}
        if response.status_code != 200:
            message = response.json().get("message", response.text[:200]) \
                if "json" in response.headers.get("content-type", "") else response.text[:200]
            return {"process": name, "url": url, "error": f"{response.status_code}: {message}"}
        return {"process": name, "url": url, **response.json()}

    with _admin_key(settings, key) as token, ThreadPoolExecutor(len(targets)) as pool:
        if len(targets) > 1:
            err.print(f"tracing {len(targets)} processes for {interval:g} s…")
        else:
            err.print(f"tracing the platform's process for {interval:g} s…")
        return list(pool.map(one, targets.items()))


def _mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def _print(results: list[dict[str, Any]]) -> None:
    table = Table("process", "pid", "RSS", "RSS change", "traced growth")
    for r in results:
        if "error" in r:
            table.add_row(r["process"], "-", f"[red]{r['error']}[/red]", "", "")
            continue
        table.add_row(r["process"], str(r["pid"]), _mib(r["rss_bytes_end"]),
                      _mib(r["rss_bytes_end"] - r["rss_bytes_start"]), _mib(r["growth_bytes"]))
    console.print(table)
    for r in results:
        if r.get("top_growing"):
            sites = Table("site", "grew", "blocks", "live", title=f"{r['process']}: top growing")
            for s in r["top_growing"]:
                sites.add_row(f"{s['file']}:{s['line']}", _mib(s["size_diff_bytes"]),
                              f"{s['count_diff']:+,}", _mib(s["size_bytes"]))
            console.print(sites)


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@memory_app.command("profile")
def profile(*, interval: Annotated[float, typer.Option("--interval", min=0.5, max=600,
                                                    help="Seconds to trace.")] = 10.0,
            top: Top = 15, key: Key = None, as_json: AsJson = False,
            data_dir: DataDir = None) -> None:
    """RSS per platform process and the allocation sites that grew most over the interval."""
    results = _trace_all(_settings(data_dir), key, interval, top)
    if as_json:
        print(json.dumps({"processes": results}))
    else:
        _print(results)
    if any("error" in r for r in results):
        raise typer.Exit(1)


@memory_app.command("leaks")
def leaks(*, interval: Annotated[float, typer.Option("--interval", min=5, max=600,
                                                  help="Seconds to watch.")] = 60.0,
          threshold: Annotated[float, typer.Option(
              "--threshold-mb-per-hour", min=0,
              help="RSS growth rate above which a process is reported leaking.")] = 50.0,
          top: Top = 15, key: Key = None, as_json: AsJson = False,
          data_dir: DataDir = None) -> None:
    """Watch every process for the interval; exit 1 when one's RSS grows too fast."""
    results = _trace_all(_settings(data_dir), key, interval, top)
    for r in results:
        if "error" not in r:
            rate = (r["rss_bytes_end"] - r["rss_bytes_start"]) / 2**20 * 3600 / interval
            r["rss_mb_per_hour"] = round(rate, 1)
            r["leaking"] = rate > threshold
    leaking = [r["process"] for r in results if r.get("leaking")]
    if as_json:
        print(json.dumps({"threshold_mb_per_hour": threshold, "leaking": leaking,
                          "processes": results}))
    else:
        _print(results)
        for r in results:
            if "rss_mb_per_hour" in r:
                verdict = "[red]LEAKING?[/red]" if r["leaking"] else "[green]steady[/green]"
                console.print(f"{r['process']}: RSS {r['rss_mb_per_hour']:+.1f} MB/h "
                              f"(threshold {threshold:g}) {verdict}")
    if leaking or any("error" in r for r in results):
        raise typer.Exit(1)
