"""Backup + verify and restore of a ~1 GB SQLite store (and a PostgreSQL one), each phase timed.

    python benchmarks/backup.py [--size-mb 1024] [--events 1000000] [--pg URL --pg-size-mb 200]
                                [--pg-events N] [--calib S] [--json]

Builds the store first (not timed) in a temporary data directory: a journal of `--events`
real kernel events (benchmarks/recovery.py's seeded order mix, snapshots included), its
projection tables (the projector), and a history database of random-walk minute bars that
brings the total to `--size-mb`. Then times `run_backup` (copy with the SQLite online backup
API and zstd, then verification: checksums re-read, a test restore, the full replay of the
journal against the live state, projection = replay) and `run_restore` (checks, unpack aside,
checks again, rename swap, checks on the swapped-in store). Targets (issue 16): backup +
verify <= 60 s and restore <= 60 s for 1 GB. With --pg the same on a PostgreSQL database
(pg_dump -Fc / pg_restore into a new database), reported only.

Output is JSON; `normalised_s` = seconds x 0.40 / calib (python /work/shared/tools/calib.py,
measured before and after unless --calib is given; the median of the two is used).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from mcp_trading.adapters.store import Projector, open_store, upgrade
from mcp_trading.config import Settings
from mcp_trading.dataops import pgadmin
from mcp_trading.dataops.backup import run_backup
from mcp_trading.dataops.restore import run_restore

CALIB = Path("/work/shared/tools/calib.py")
sys.path.insert(0, str(Path(__file__).parent))
from recovery import build  # noqa: E402  (the seeded journal of benchmarks/recovery.py)


def calib() -> float:
    out = subprocess.run([sys.executable, str(CALIB)], check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip())


def _project(url: str, reports: str) -> None:
    upgrade(reports)
    source = open_store(url) if reports != url else None
    projector = Projector(reports, source=source)
    try:
        projector.catch_up(max_records=50_000)
    finally:
        projector.close()
        if source is not None:
            source.close()


def _bars(conn: Any, target_bytes: int, size_of: Any, seed: int) -> int:
    """Random-walk minute bars until the database reaches `target_bytes`; rows written."""
    rng = random.Random(seed)
    rows = 0
    symbols = [f"S{i:03d}" for i in range(200)]
    ts = 1_600_000_000_000_000_000
    price = dict.fromkeys(symbols, 100.0)
    while size_of() < target_bytes:
        batch = []
        for _ in range(200_000):
            s = symbols[rows % len(symbols)]
            p = price[s] = max(1.0, price[s] * (1 + rng.gauss(0, 0.001)))
            batch.append((s, ts + rows * 60_000_000_000, round(p, 2), round(p * 1.001, 2),
                          round(p * 0.999, 2), round(p, 2), rng.randrange(100, 100_000)))
            rows += 1
        conn.executemany("INSERT INTO bench_bars VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        conn.commit()
    return rows


def build_sqlite(data: Path, size_mb: int, events: int) -> dict[str, Any]:
    url = f"sqlite:///{data / 'trading.db'}"
    upgrade(url)
    built = build(url, events, 100_000, 7)
    _project(url, f"sqlite:///{data / 'trading-reports.db'}")
    used = sum(p.stat().st_size for p in data.glob("*.db"))
    history = data / "history.db"
    conn = sqlite3.connect(history)
    conn.execute("CREATE TABLE bench_bars (symbol TEXT, ts INTEGER, open REAL, high REAL, "
                 "low REAL, close REAL, volume INTEGER)")
    built["bar_rows"] = _bars(conn, size_mb * 1_000_000 - used,
                              lambda: history.stat().st_size, 3)
    conn.close()
    built["store_mb"] = round(sum(p.stat().st_size for p in data.glob("*.db")) / 1e6, 1)
    return built


def build_pg(url: str, size_mb: int, events: int) -> dict[str, Any]:
    upgrade(url)
    built = build(url, events, 100_000, 7)
    _project(url, url)
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE TABLE bench_bars (symbol TEXT, ts BIGINT, open FLOAT8, high "
                     "FLOAT8, low FLOAT8, close FLOAT8, volume BIGINT)")

        def size() -> int:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0

        class _Exec:  # executemany in the shape _bars wants
            def executemany(self, sql: str, rows: list[Any]) -> None:
                with conn.cursor() as cur, cur.copy(
                        "COPY bench_bars FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)

            def commit(self) -> None:
                conn.commit()

        built["bar_rows"] = _bars(_Exec(), size_mb * 1_000_000, size, 3)
        built["store_mb"] = round(size() / 1e6, 1)
    return built


def measure(settings: Settings) -> dict[str, Any]:
    t0 = time.perf_counter()
    manifest = run_backup(settings)
    backup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = run_restore(settings, manifest["path"])
    restore_s = time.perf_counter() - t0
    compressed = sum(f.get("size", 0) for f in manifest["files"])
    raw = sum(f.get("raw_size", f.get("size", 0)) for f in manifest["files"])
    return {"status": manifest["status"], "restore_ok": report["ok"],
            "journal_last_seq": manifest["journal_last_seq"],
            "backup_verify_s": round(backup_s, 2), "backup_phases_s": manifest["phases"],
            "verify_checks": [c["name"] for c in manifest["verification"]["checks"]],
            "restore_s": round(restore_s, 2), "raw_mb": round(raw / 1e6, 1),
            "backup_mb": round(compressed / 1e6, 1), "compression": manifest["compression"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is created on it)")
    parser.add_argument("--pg-size-mb", type=int, default=200)
    parser.add_argument("--pg-events", type=int, help="journal events on PostgreSQL "
                        "(default --events)")
    parser.add_argument("--calib", type=float, help="calib.py's figure on this machine, now")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args()
    calibs = [args.calib] if args.calib is not None else [calib()]
    out: dict[str, Any] = {"size_mb": args.size_mb, "events": args.events,
                           "pg_size_mb": args.pg_size_mb if args.pg else None}
    with tempfile.TemporaryDirectory(prefix="mcp-trading-backup-bench-") as tmp:
        data = Path(tmp) / "var"
        data.mkdir()
        t0 = time.perf_counter()
        out["sqlite_built"] = build_sqlite(data, args.size_mb, args.events)
        out["sqlite_built"]["build_s"] = round(time.perf_counter() - t0, 1)
        print(f"[backup] built {out['sqlite_built']}", file=sys.stderr, flush=True)
        out["sqlite"] = measure(Settings(data_dir=data))
        print(f"[backup] sqlite {out['sqlite']}", file=sys.stderr, flush=True)
        if args.pg:
            name = f"mcpbench_{uuid.uuid4().hex[:8]}"
            pgadmin.create_database(args.pg, name)
            url = pgadmin.with_database(args.pg, name)
            try:
                out["pg_built"] = build_pg(url, args.pg_size_mb, args.pg_events or args.events)
                print(f"[backup] pg built {out['pg_built']}", file=sys.stderr, flush=True)
                pg_data = Path(tmp) / "pg"
                pg_data.mkdir()
                out["postgres"] = measure(Settings(data_dir=pg_data, database_url=url))
            finally:
                for db in (name, *_leftovers(args.pg, name)):
                    pgadmin.drop_database(args.pg, db)
    if args.calib is None:
        calibs.append(calib())
    c = statistics.median(calibs)
    out["calib_s"] = calibs
    for key in ("sqlite", "postgres"):
        if key in out:
            for field in ("backup_verify_s", "restore_s"):
                out[key][field.replace("_s", "_normalised_s")] = round(
                    out[key][field] * 0.40 / c, 2)
    out["targets"] = {"backup_verify_s": 60, "restore_s": 60, "at_size_mb": 1024}
    print(json.dumps(out, indent=2))
    return 0


def _leftovers(server: str, name: str) -> list[str]:
    import psycopg

    admin = pgadmin.with_database(server, "postgres").replace("postgresql+psycopg://",
                                                              "postgresql://")
    with psycopg.connect(admin) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (name + "_%",)).fetchall()
    return [r[0] for r in rows]


if __name__ == "__main__":
    sys.exit(main())
