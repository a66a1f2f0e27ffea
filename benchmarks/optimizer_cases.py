"""The `hrp` case for benchmarks/optimizer.py: end to end (closes -> returns -> covariance ->
HRP weights) on 500 assets × 1,000 days, beside PyPortfolioOpt's HRPOpt on the same returns.

    python benchmarks/optimizer_cases.py [--assets 500] [--days 1000] [--repeat 7]

Prints one JSON object. Input: benchmarks/optimizer.py's GENERATED one-factor prices (seed 15),
never market data. Ours: `estimate(prices, mean_historical, sample)` then `METHODS["hrp"]`;
the peer: `HRPOpt(pandas returns).optimize("single")` (it computes its covariance and
correlation from the returns, so both sides start from the closes' returns). Alternated
(who goes first swaps each round), medians of `--repeat`; `normalised` = seconds × 0.40 /
mean calib loop (calib.py timed before and after). `hrp_case` is the function the main
benchmark can call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.optimizer.estimators import estimate
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Problem

Weights = npt.NDArray[np.float64]


def _ours(prices: Weights, symbols: tuple[str, ...]) -> Weights:
    est = estimate(prices, symbols)
    return METHODS["hrp"].run(Problem(est, options={"linkage": "single"})).weights


def _theirs(prices: Weights, symbols: tuple[str, ...]) -> Weights:
    import pandas as pd
    from pypfopt import HRPOpt

    returns = pd.DataFrame(prices[1:] / prices[:-1] - 1.0, columns=list(symbols))
    weights = HRPOpt(returns).optimize(linkage_method="single")
    return np.array([weights[s] for s in symbols])


def hrp_case(prices: Weights, repeat: int) -> dict[str, Any]:
    """Median seconds of ours and PyPortfolioOpt's, end to end, and the largest weight gap."""
    symbols = tuple(f"A{i:03d}" for i in range(prices.shape[1]))
    times: dict[str, list[float]] = {"ours": [], "pyportfolioopt": []}
    out: dict[str, Weights] = {}
    runners = {"ours": _ours, "pyportfolioopt": _theirs}
    for round_ in range(repeat):
        order = ["ours", "pyportfolioopt"] if round_ % 2 == 0 else ["pyportfolioopt", "ours"]
        for name in order:
            started = time.perf_counter()
            out[name] = runners[name](prices, symbols)
            times[name].append(time.perf_counter() - started)
    return {"case": "hrp", "scope": "end to end: closes -> returns -> covariance -> weights",
            "ours_s": statistics.median(times["ours"]),
            "pyportfolioopt_s": statistics.median(times["pyportfolioopt"]),
            "max_weight_difference": float(np.max(np.abs(out["ours"] - out["pyportfolioopt"])))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from optimizer import REFERENCE_LOOP_S, calib, generated_prices

    prices = generated_prices(args.assets, args.days)
    before = calib()
    case = hrp_case(prices, args.repeat)
    loop = (before + calib()) / 2.0
    scale = REFERENCE_LOOP_S / loop
    case |= {"ours_normalised_s": case["ours_s"] * scale,
             "pyportfolioopt_normalised_s": case["pyportfolioopt_s"] * scale}
    print(json.dumps({"assets": args.assets, "days": args.days, "repeat": args.repeat,
                      "calib_loop_s": loop, "reference_loop_s": REFERENCE_LOOP_S,
                      "target_s": 0.100, "cases": [case]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
