"""The soak's request mix, closed loop: the platform's CPU per order (a figure a shared box
moves less than throughput) and the mix's throughput.

    python benchmarks/mix.py --json [--seconds 10] [--clients 16]

Starts the embedded platform as a user would (subprocess, temp data dir, free ports), then
`--clients` keep-alive connections from one load process (nice 10, a session and niced
autogroup of its own, as benchmarks/soak.py's) each repeat the soak's slots: 3 in 5 market
buys (filled at once), 2 in 5 limit buys 5 % below the market that the same connection
cancels two slots later, and every 4th slot a read by id of one of its earlier orders
(closed ones included: the projections serve those). Reports (JSON):

- orders_per_s, requests_per_s over the measured `--seconds` (after a 3 s warm-up);
- cpu_us_per_order / cpu_us_per_request: the platform process's CPU time (all threads,
  /proc schedstat) over the period, per order and per request of the mix;
- errors: non-2xx answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from api import request_bytes
from launch import SERVICES, UNTHROTTLED, free_ports, platform_env, resting_prices, start_platform

SYMBOLS = ["AAPL", "MSFT", "SPY", "QQQ", "AMZN", "NVDA", "GOOGL", "META", "TSLA", "JPM"]


def cpu_ns(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except OSError:
            continue
    return total


async def _call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                payload: bytes) -> tuple[int, bytes]:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return int(head[9:12]), (await reader.readexactly(length) if length else b"")


async def _client(port: int, k: int, stop: float, counts: dict[str, int],
                  resting: dict[str, str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    mine: list[str] = []
    to_cancel: list[str] = []
    i = k
    while time.perf_counter() < stop:
        limit = i % 5 >= 3
        symbol = SYMBOLS[i % len(SYMBOLS)]
        body: dict[str, Any] = {"symbol": symbol, "qty": 1, "side": "buy"}
        body.update({"type": "limit", "limit_price": resting[symbol], "time_in_force": "gtc"} if limit
                    else {"type": "market", "time_in_force": "day"})
        status, answer = await _call(reader, writer, request_bytes(
            "POST", "/orders", port, json.dumps(body).encode()))
        counts["orders"] += 1
        if status == 200:
            order_id = json.loads(answer)["id"]
            mine.append(order_id)
            if limit:
                to_cancel.append(order_id)
        else:
            counts["errors"] += 1
        requests = [("DELETE", to_cancel.pop(0))] if len(to_cancel) > 1 else []
        if i % 4 == 0 and mine:
            requests.append(("GET", mine[(i * 7919) % len(mine)]))
        for method, order_id in requests:
            status, _ = await _call(reader, writer,
                                    request_bytes(method, f"/orders/{order_id}", port))
            counts["errors"] += status != 200
        counts["requests"] += 1 + len(requests)
        i += 5  # a prime stride: each connection walks the symbols and kinds
    writer.close()


def _load(port: int, clients: int, warmup: float, seconds: float, out: Any, *,
          resting: dict[str, str]) -> None:
    os.nice(10)
    try:
        os.setsid()
        Path("/proc/self/autogroup").write_text("10")
    except OSError:
        pass

    async def run() -> None:
        stop = time.perf_counter() + warmup
        warm = {"orders": 0, "requests": 0, "errors": 0}
        await asyncio.gather(*(_client(port, k, stop, warm, resting) for k in range(clients)))
        counts = {"orders": 0, "requests": 0, "errors": 0}
        out.put(("start", time.time()))
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, k, stop, counts, resting) for k in range(clients)))
        out.put(("end", time.time(), counts))

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    engine = ports["trading-engine"]
    with tempfile.TemporaryDirectory(prefix="mcp-trading-mix-") as tmp:
        proc = start_platform(Path(tmp), platform_env(Path(tmp), ports, **UNTHROTTLED),
                              new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{engine}/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.1)
            out: Any = mp.Queue()
            resting = resting_prices(ports["market-data"], SYMBOLS)
            load = mp.Process(target=_load, args=(engine, args.clients, args.warmup,
                                                  args.seconds, out),
                               kwargs={"resting": resting})
            load.start()
            out.get()
            t0, cpu0 = time.perf_counter(), cpu_ns(proc.pid)
            _, _, counts = out.get()
            elapsed, cpu = time.perf_counter() - t0, cpu_ns(proc.pid) - cpu0
            load.join()
        finally:
            proc.terminate()
            proc.wait(30)
    result = {
        "orders_per_s": round(counts["orders"] / elapsed),
        "requests_per_s": round(counts["requests"] / elapsed),
        "cpu_us_per_order": round(cpu / 1000 / max(counts["orders"], 1), 1),
        "cpu_us_per_request": round(cpu / 1000 / max(counts["requests"], 1), 1),
        "seconds": round(elapsed, 2), "clients": args.clients, "errors": counts["errors"],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
