"""MCP tool-call latency of the platform against a bare SDK server, over loopback.

    python benchmarks/mcp.py --json

Starts the platform as a user would (subprocess, temp data dir, free ports, a viewer key made
with `mcp-trading keys create` beforehand), then one SDK client (`ClientSession` over
streamable HTTP, one session, one keep-alive connection) makes sequential `get_quote` calls
to the market-data service's /mcp:
- call_p50_ms / call_p99_ms: the platform's tool call, bearer-authenticated;
- bare_p50_ms / bare_p99_ms: the same client code against a bare `MCPServer` whose one tool
  returns a constant, served by uvicorn in its own process, no auth, the same transport options
  as the platform (stateless, JSON responses);
- the two servers' calls alternate (one session each), so background noise hits both alike;
- ratio_p50: call_p50 / bare_p50, what the platform adds to the SDK's own cost (target <= 1.3).
Both are warmed up before measuring.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named mcp.py: keep its directory off the path so `import mcp` finds the SDK
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.append(str(_HERE))  # last: the SDK in site-packages wins, launch.py is still found

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from launch import SERVICES, free_ports, pct, platform_env, start_platform  # noqa: E402


def create_key(data_dir: Path, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "mcp_trading", "keys", "create", "--role", "viewer",
                          "--account", "paper", "--name", "mcp-bench", "--json", "--data-dir", str(data_dir)],
                         env=env, check=True, capture_output=True, text=True)
    key: str = json.loads(out.stdout)["key"]
    return key


def serve_bare(port: int) -> None:
    """The baseline: a bare MCPServer with one constant tool (run in a child process)."""
    import uvicorn
    from mcp.server import MCPServer

    server = MCPServer("bare")

    @server.tool()
    async def get_quote(symbol: str) -> str:
        """A constant."""
        return "ok"

    app = server.streamable_http_app(json_response=True, stateless_http=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_bare(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bare server exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("bare server did not start in 30 s")


async def measure(targets: list[tuple[str, dict[str, str]]], symbol: str, warmup: int,
                  calls: int) -> list[list[float]]:
    """Latencies per target; the targets' calls alternate, so a drift of the machine (another
    process waking up) costs every target alike instead of skewing the ratio."""
    from contextlib import AsyncExitStack

    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with AsyncExitStack() as stack:
        sessions = []
        for url, headers in targets:
            http = await stack.enter_async_context(create_mcp_http_client(headers=headers))
            read, write = await stack.enter_async_context(
                streamable_http_client(url, http_client=http))
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            sessions.append((url, session))
        args = {"symbol": symbol}
        for _ in range(warmup):
            for _url, session in sessions:
                await session.call_tool("get_quote", args, read_timeout_seconds=10)
        latencies: list[list[float]] = [[] for _ in sessions]
        for i in range(calls):
            for k, (url, session) in enumerate(sessions):
                t0 = time.perf_counter()
                try:
                    result = await session.call_tool("get_quote", args, read_timeout_seconds=10)
                except Exception as exc:
                    raise RuntimeError(f"{url}: measured call {i} got no answer: {exc}") from None
                latencies[k].append((time.perf_counter() - t0) * 1000)
                if result.is_error:
                    raise RuntimeError(f"{url}: call {i} failed: {result.content}")
        return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--calls", type=int, default=1000, help="measured calls per server")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured calls per server first")
    parser.add_argument("--symbol", default="SPY")
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare is not None:
        serve_bare(args.serve_bare)
        return 0
    *service_ports, bare_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, service_ports, strict=True))
    with tempfile.TemporaryDirectory(prefix="mcp-trading-mcp-bench-") as tmp:
        data_dir = Path(tmp)
        env = platform_env(data_dir, ports)
        key = create_key(data_dir, env)
        platform = start_platform(data_dir, env)
        bare = start_bare(bare_port)
        try:
            time.sleep(1.0)  # let the feed publish a first quote for every symbol
            call, base = asyncio.run(measure(
                [(f"http://127.0.0.1:{ports['market-data']}/mcp",
                  {"Authorization": f"Bearer {key}"}),
                 (f"http://127.0.0.1:{bare_port}/mcp", {})],
                args.symbol, args.warmup, args.calls))
        finally:
            for proc in (bare, platform):
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    result: dict[str, Any] = {
        "call_p50_ms": round(statistics.median(call), 3),
        "call_p99_ms": pct(call, 0.99),
        "bare_p50_ms": round(statistics.median(base), 3),
        "bare_p99_ms": pct(base, 0.99),
        "ratio_p50": round(statistics.median(call) / statistics.median(base), 3),
        "calls": args.calls,
        "warmup": args.warmup,
        "symbol": args.symbol,
        "mode": "embedded",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:14s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
