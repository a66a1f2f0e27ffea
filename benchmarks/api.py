"""REST throughput and latency against a started platform, over loopback.

    python benchmarks/api.py --json [--distributed [--compare-rounds N]]

Starts the platform as a user would (subprocess, temp data dir, free ports), then measures:
- submit_p50_ms / submit_p99_ms: one client, sequential POST /orders, submit -> durable ack;
- orders_per_s: 16 concurrent clients (keep-alive connections) submitting single orders;
- health_p99_ms: GET /health latency on the trading engine while that load runs.
"Acknowledged" means journaled: the platform answers only after the group commit.
With --distributed the platform runs one process per service on PostgreSQL and Redis
(TEST_DATABASE_URL's server, a fresh database; REDIS_URL, a fresh key prefix), and the run
also measures fill_to_portfolio_p50/p99_ms: from a fill's time in the engine (filled_at) to
the moment the portfolio service (another process) shows the position that includes it, and
compares its sustained orders/s with embedded mode's measured in alternation on the same box
(embedded, distributed, embedded, distributed, ...): orders_per_s_vs_embedded is the ratio of
the medians (orders_per_s and embedded_orders_per_s; every round's figure is listed).
The load generator is a small raw-HTTP/1.1 client (asyncio streams, pre-built requests) running
in its own process so it costs the server as little CPU as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from launch import SERVICES, UNTHROTTLED, Distributed, free_ports, pct, platform_env, start_platform


def request_bytes(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    payload: bytes) -> int:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


#: the simulator's universe; `--symbol` puts every order on one symbol instead
SYMBOLS = ["AAPL", "MSFT", "SPY", "QQQ", "AMZN", "NVDA", "GOOGL", "META", "TSLA", "JPM", "V", "XOM",
           "JNJ", "PG", "KO", "IWM", "DIA", "BAC", "WMT", "NFLX"]


def order_body(i: int) -> bytes:
    # market buys of 1-3 shares across the universe: accepted (the account has ample cash) and
    # filled as the quotes' sizes allow, so every request takes the whole path: risk,
    # matching, position, journal
    return json.dumps({"symbol": SYMBOLS[i % len(SYMBOLS)], "qty": 1 + i % 3, "side": "buy",
                       "type": "market", "time_in_force": "day"}).encode()


async def _sequential(port: int, n: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies = []
    for i in range(n):
        payload = request_bytes("POST", "/orders", port, order_body(i))
        t0 = time.perf_counter()
        status = await roundtrip(reader, writer, payload)
        latencies.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"order {i} answered {status}")
    writer.close()
    return latencies


async def _load(port: int, clients: int, seconds: float, offset: int) -> tuple[int, int]:
    deadline = time.perf_counter() + seconds
    done = errors = 0
    payloads = [request_bytes("POST", "/orders", port, order_body(i))
                for i in range(3 * len(SYMBOLS))]

    async def client(k: int) -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset + k
        while time.perf_counter() < deadline:
            status = await roundtrip(reader, writer, payloads[i % len(payloads)])
            i += 1
            if status == 200:
                done += 1
            else:
                errors += 1
        writer.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return done, errors


async def _batch_load(port: int, clients: int, seconds: float, size: int) -> tuple[int, int]:
    body = json.dumps({"orders": [json.loads(order_body(i)) for i in range(size)]}).encode()
    payload = request_bytes("POST", "/orders/batch", port, body)
    deadline = time.perf_counter() + seconds
    done = errors = 0

    async def client() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            if await roundtrip(reader, writer, payload) == 200:
                done += size
            else:
                errors += 1
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return done, errors


def _run(coro: Any) -> Any:
    try:  # the load generator should spend as little CPU as it can: the server shares the box
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _load_proc(port: int, clients: int, seconds: float, offset: int, out: Any) -> None:
    out.put(_run(_load(port, clients, seconds, offset)))


def _probe_proc(port: int, seconds: float, out: Any) -> None:
    """GET /health every 10 ms on a blocking socket: its own process and no event loop, so
    the figure is the server's answer time, not the load generator's own queueing."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = request_bytes("GET", "/health", port)
    reader = sock.makefile("rb")
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        sock.sendall(payload)
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        reader.read(length)
        latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.01)
    sock.close()
    out.put(latencies)


async def _health_probe(port: int, seconds: float) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = request_bytes("GET", "/health", port)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        await roundtrip(reader, writer, payload)
        latencies.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.01)
    writer.close()
    return latencies


def _fill_lags(engine: int, portfolio: int, n: int) -> list[float]:
    """Per market order: ms from its fill in the engine to the portfolio service showing it."""
    import datetime as dt

    import httpx

    def qty(client: httpx.Client) -> Decimal:
        body = client.get("/portfolio/positions", params={"account_id": "paper"}).json()
        rows = body["accounts"][0]["positions"] if body["accounts"] else []
        return sum((Decimal(r["qty"]) for r in rows if r["symbol"] == "SPY"), Decimal(0))

    lags: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{engine}", timeout=10) as orders, \
            httpx.Client(base_url=f"http://127.0.0.1:{portfolio}", timeout=10) as views:
        held = qty(views)
        for i in range(n):
            r = orders.post("/orders", json={"symbol": "SPY", "qty": "1", "side": "buy",
                                             "type": "market", "client_order_id": f"lag-{i}"})
            order = r.json()
            if r.status_code != 200 or order.get("status") != "filled":
                continue  # no liquidity at that instant: not a fill to time
            filled = dt.datetime.fromisoformat(order["filled_at"].replace("Z", "+00:00"))
            held += Decimal(order["filled_qty"])
            while qty(views) < held:
                time.sleep(0.0005)
            lags.append((time.time() - filled.timestamp()) * 1000)
    return lags


def _sustained(engine: int, clients: int, load_procs: int,
               seconds: float) -> tuple[int, int, float, list[float]]:
    """`clients` keep-alive clients submitting for `seconds`, with /health probed meanwhile:
    (acknowledged, errors, elapsed s, health latencies ms)."""
    out: Any = mp.Queue()
    probe_out: Any = mp.Queue()
    per_proc = clients // load_procs
    workers = [mp.Process(target=_load_proc, args=(engine, per_proc, seconds, k * per_proc, out))
               for k in range(load_procs)]
    prober = mp.Process(target=_probe_proc, args=(engine, seconds, probe_out))
    t0 = time.perf_counter()
    for w in [*workers, prober]:
        w.start()
    results = [out.get() for _ in workers]
    health = probe_out.get()
    for w in [*workers, prober]:
        w.join()
    elapsed = time.perf_counter() - t0
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed, health


def _embedded_round(args: argparse.Namespace) -> int:
    """One sustained-load figure (orders/s) from a fresh embedded platform."""
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    with tempfile.TemporaryDirectory(prefix="mcp-trading-api-bench-") as tmp:
        proc = start_platform(Path(tmp), platform_env(Path(tmp), ports, **UNTHROTTLED))
        try:
            time.sleep(1.0)
            asyncio.run(_sequential(ports["trading-engine"], 200))  # warm-up
            done, _, elapsed, _ = _sustained(ports["trading-engine"], args.clients,
                                             args.load_procs, args.seconds)
        finally:
            proc.terminate()
            proc.wait(30)
    return round(done / elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=10.0, help="sustained load duration")
    parser.add_argument("--sequential", type=int, default=2000, help="orders for the latency run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--symbol", default=None,
                        help="put every order on this one symbol (a liquidity-starved worst case)")
    parser.add_argument("--load-procs", type=int, default=1,
                        help="load-generator processes sharing the clients (the box has 2 cores)")
    parser.add_argument("--distributed", action="store_true",
                        help="one process per service on PostgreSQL and Redis")
    parser.add_argument("--fills", type=int, default=300,
                        help="--distributed: orders for the fill-to-portfolio lag")
    parser.add_argument("--compare-rounds", type=int, default=3,
                        help="--distributed: embedded sustained-load rounds run between the "
                             "distributed measurements, for orders_per_s_vs_embedded (0: none; "
                             "an odd number makes each median one real round)")
    parser.add_argument("--no-projection", action="store_true",
                        help="measure without the background projection of reporting tables")
    args = parser.parse_args()
    if args.symbol:
        SYMBOLS[:] = [args.symbol]
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    engine = ports["trading-engine"]
    compare = args.compare_rounds if args.distributed else 0
    embedded_runs: list[int] = []
    distributed_runs: list[int] = []
    if compare:
        # the machine's speed drifts by tens of percent over minutes: embedded and distributed
        # are measured in alternation, so their ratio compares like with like
        embedded_runs.append(_embedded_round(args))
    with tempfile.TemporaryDirectory(prefix="mcp-trading-api-bench-") as tmp:
        extra = {"MCP_TRADING_PROJECTION_INTERVAL_S": "0"} if args.no_projection else {}
        env = platform_env(Path(tmp), ports, **UNTHROTTLED, **extra)
        cluster = Distributed(Path(tmp), env) if args.distributed else None
        proc = None
        if cluster is not None:
            cluster.start()
        else:
            proc = start_platform(Path(tmp), env)
        lags: list[float] = []
        try:
            time.sleep(1.0)  # let the feed publish a first quote for every symbol
            asyncio.run(_sequential(engine, 200))  # warm-up
            latencies = asyncio.run(_sequential(engine, args.sequential))
            done, errors, elapsed, health = _sustained(engine, args.clients, args.load_procs,
                                                       args.seconds)
            distributed_runs.append(round(done / elapsed))
            t1 = time.perf_counter()
            batch_done, batch_errors = asyncio.run(_batch_load(engine, 4, args.seconds / 2, 100))
            batch_elapsed = time.perf_counter() - t1
            if cluster is not None:
                lags = _fill_lags(engine, ports["portfolio"], args.fills)
                for _ in range(compare - 1):
                    cluster.stop()  # one platform at a time on the box
                    embedded_runs.append(_embedded_round(args))
                    cluster = Distributed(Path(tmp) / f"round-{len(embedded_runs)}", env)
                    cluster.start()
                    time.sleep(1.0)
                    asyncio.run(_sequential(engine, 200))
                    more, _, took, _ = _sustained(engine, args.clients, args.load_procs,
                                                  args.seconds)
                    distributed_runs.append(round(more / took))
        finally:
            if cluster is not None:
                cluster.stop()
            if proc is not None:
                proc.terminate()
                proc.wait(30)
    result: dict[str, Any] = {
        "submit_p50_ms": round(statistics.median(latencies), 3),
        "submit_p99_ms": pct(latencies, 0.99),
        "orders_per_s": round(statistics.median(distributed_runs)),
        "clients": args.clients,
        "load_seconds": round(elapsed, 2),
        "orders_acknowledged": done,
        "errors": errors,
        "health_p50_ms": round(statistics.median(health), 3),
        "health_p99_ms": pct(health, 0.99),
        "batch_orders_per_s": round(batch_done / batch_elapsed),
        "batch_size": 100,
        "batch_errors": batch_errors,
        "mode": "distributed" if args.distributed else "embedded",
    }
    if embedded_runs:
        embedded = statistics.median(embedded_runs)
        result["orders_per_s_runs"] = distributed_runs
        result["embedded_orders_per_s"] = round(embedded)
        result["embedded_orders_per_s_runs"] = embedded_runs
        result["orders_per_s_vs_embedded"] = round(statistics.median(distributed_runs) / embedded, 3)
    if lags:
        result["fill_to_portfolio_p50_ms"] = round(statistics.median(lags), 3)
        result["fill_to_portfolio_p99_ms"] = pct(lags, 0.99)
        result["fills_measured"] = len(lags)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:26s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
