"""Run one benchmark on two checkouts in alternation and report the ratio of the medians.

    python benchmarks/alternate.py --base ../base-checkout kernel --rounds 5 -- --repeat 1
    python benchmarks/alternate.py --base ../base-checkout api --rounds 3
    python benchmarks/alternate.py --base ../base-checkout mix --rounds 3  # cpu: lower is better
    python benchmarks/alternate.py --base ../base-checkout history -- --skip-import --bars 200000

Each round runs the base checkout's own copy of the benchmark (with its `src` first on
PYTHONPATH) and this checkout's, swapping who goes first every round, so drift on a shared
machine hits both sides alike. calib.py's loop is timed before and after. Prints JSON: every
round's figures and, per figure, both medians and new/base (a dotted figure, e.g.
`raw.service.service_ms`, is a path into a benchmark's nested JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from launch import calib

HERE = Path(__file__).resolve().parents[1]
FIGURES = {"kernel": ("orders_per_s", "memory_orders_per_s"),
           "api": ("orders_per_s", "submit_p50_ms", "submit_p99_ms", "health_p99_ms"),
           "mix": ("cpu_us_per_order", "cpu_us_per_request", "orders_per_s"),
           "mcp": (),
           "history": ("normalised.service_daily_10y_ms", "normalised.service_daily_10y_cold_ms",
                       "raw.service.service_ms",
                       "raw.service.read_bars_ms", "raw.service.columns_view_ms",
                       "calib_before_s", "calib_after_s")}


def run(tree: Path, bench: str, extra: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    out = subprocess.run([sys.executable, f"benchmarks/{bench}.py", "--json", *extra], cwd=tree,
                         env=env, capture_output=True, text=True, check=False)
    try:
        result: dict[str, Any] = json.loads(out.stdout[out.stdout.index("{"):])
    except ValueError:
        raise SystemExit(f"{bench} failed in {tree}:\n{out.stderr[-2000:]}") from None
    return result


def _figure(result: dict[str, Any], path: str) -> float:
    value: Any = result
    for key in path.split("."):
        value = value[key]
    return float(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("bench", choices=sorted(FIGURES))
    parser.add_argument("--rounds", type=int, default=5)
    args, rest = parser.parse_known_args()  # the rest (after --) goes to the benchmark
    args.extra = [a for a in rest if a != "--"]
    trees = {"base": args.base.resolve(), "new": HERE}
    rounds: dict[str, list[dict[str, Any]]] = {"base": [], "new": []}
    calib_before = calib()
    for r in range(args.rounds):
        for name in ("base", "new") if r % 2 == 0 else ("new", "base"):
            rounds[name].append(run(trees[name], args.bench, args.extra))
            print(f"[alternate] round {r + 1} {name} done", file=sys.stderr, flush=True)
    figures = FIGURES[args.bench] or tuple(k for k, v in rounds["new"][0].items()
                                           if isinstance(v, (int, float)))
    report: dict[str, Any] = {"bench": args.bench, "rounds": args.rounds,
                              "calib_s": {"before": calib_before, "after": calib()}}
    for figure in figures:
        try:
            base_runs = [_figure(d, figure) for d in rounds["base"]]
            new_runs = [_figure(d, figure) for d in rounds["new"]]
        except KeyError:  # a figure one side's benchmark does not report yet
            report[figure] = {"missing": "not reported by one side"}
            continue
        base, new = statistics.median(base_runs), statistics.median(new_runs)
        report[figure] = {"base_runs": base_runs, "new_runs": new_runs,
                          "base_median": base, "new_median": new,
                          "new_over_base": round(new / base, 3) if base else None}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
