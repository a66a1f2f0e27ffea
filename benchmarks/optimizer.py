"""Optimizer speed on 500 assets × 1,000 days, long-only, beside PyPortfolioOpt's.

    pip install -e ".[bench]"        # PyPortfolioOpt (and cvxpy): development only
    python benchmarks/optimizer.py [--json] [--assets 500] [--days 1000] [--repeat 7]
                                   [--candidates]

Input: GENERATED prices — the shipped sample has five symbols, so this is a seeded one-factor
geometric Brownian motion (seed 15; market drift 8 %/yr, vol 18 %/yr; betas 0.5..1.5;
idiosyncratic vol 15..45 %/yr; asset drifts spread so some beat the risk-free rate). A
benchmark input, never a price shown to a user.

Estimation (mean_historical + sample covariance) is timed apart; each case then times the
method on the same Estimates ("after estimation"): ours (`METHODS[name].run`) and the peer
(PyPortfolioOpt's EfficientFrontier built and solved with Clarabel through cvxpy — the
modelling layer's compile time counts, as a user pays it), in alternation (who goes first
swaps each round), medians of `--repeat` runs, and the largest weight difference between the
two. `--candidates` also times the solver candidates that were measured to choose ours.

calib.py's loop is timed before and after; `normalised` = time × 0.40 / mean loop.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.optimizer.estimators import estimate
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Estimates, Problem

CALIB = Path("/work/shared/tools/calib.py")
REFERENCE_LOOP_S = 0.40
RISK_FREE = 0.02
Weights = npt.NDArray[np.float64]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def calib() -> float:
    out = subprocess.run([sys.executable, str(CALIB)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def generated_prices(assets: int, days: int, seed: int = 15) -> Weights:
    """GENERATED one-factor GBM closes (days + 1, assets): a benchmark input, not market data."""
    rng = np.random.default_rng(seed)
    dt = 1 / 252
    market = rng.normal(0.08 * dt, 0.18 * np.sqrt(dt), days)
    beta = rng.uniform(0.5, 1.5, assets)
    idio = rng.uniform(0.15, 0.45, assets) * np.sqrt(dt)
    alpha = rng.normal(0.0, 0.06, assets) * dt
    returns = alpha + np.outer(market, beta) + rng.normal(0.0, 1.0, (days, assets)) * idio
    closes: Weights = 100.0 * np.vstack([np.ones(assets), np.cumprod(1.0 + returns, axis=0)])
    return closes


@dataclass(frozen=True)
class Case:
    """One method: ours and the peer on the same Estimates, each returning weights."""

    name: str
    ours: Callable[[Estimates], Weights]
    peer: Callable[[Estimates], Weights] | None


def _ours(method: str, **options: float) -> Callable[[Estimates], Weights]:
    def run(est: Estimates) -> Weights:
        weights: Weights = METHODS[method].run(Problem(est, options=options)).weights
        return weights
    return run


def _pypfopt(method: str, **kwargs: float) -> Callable[[Estimates], Weights]:
    def run(est: Estimates) -> Weights:
        from pypfopt.efficient_frontier import EfficientFrontier
        ef = EfficientFrontier(est.mu, est.cov, weight_bounds=(0, 1), solver="CLARABEL")
        getattr(ef, method)(**kwargs)
        return np.array(list(ef.clean_weights(cutoff=0, rounding=None).values()))
    return run


# The cases, each beside its peer. opt-alloc's `hrp` (target <= 100 ms end to end, estimation
# included: give it a `Case` whose functions estimate from the prices) is added here.
CASES: list[Case] = [
    Case("min_volatility", _ours("min_volatility"), _pypfopt("min_volatility")),
    Case("max_sharpe", _ours("max_sharpe"), _pypfopt("max_sharpe", risk_free_rate=RISK_FREE)),
]


def _time(fn: Callable[[Estimates], Weights], est: Estimates) -> tuple[float, Weights]:
    start = time.perf_counter()
    weights = fn(est)
    return time.perf_counter() - start, weights


def run_case(case: Case, est: Estimates, repeat: int) -> dict[str, Any]:
    ours: list[float] = []
    peer: list[float] = []
    ours_w = peer_w = None
    for r in range(repeat):
        sides = [("ours", case.ours), ("peer", case.peer)]
        for side, fn in sides if r % 2 == 0 else sides[::-1]:
            if fn is None:
                continue
            seconds, weights = _time(fn, est)
            if side == "ours":
                ours.append(seconds)
                ours_w = weights
            else:
                peer.append(seconds)
                peer_w = weights
    out: dict[str, Any] = {"ours_ms": statistics.median(ours) * 1e3}
    if peer:
        out["pypfopt_ms"] = statistics.median(peer) * 1e3
        out["max_weight_diff"] = float(np.max(np.abs(np.asarray(ours_w) - np.asarray(peer_w))))
    log(f"[optimizer] {case.name}: {out}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="JSON only on stdout (the default)")
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--candidates", action="store_true",
                        help="also time the solver candidates (benchmarks/optimizer_solvers.py)")
    args = parser.parse_args()
    loop_before = calib()
    prices = generated_prices(args.assets, args.days)
    symbols = tuple(f"S{i:03d}" for i in range(args.assets))
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        est = estimate(prices, symbols, risk_free_rate=RISK_FREE)
        timings.append(time.perf_counter() - start)
    report: dict[str, Any] = {
        "input": f"GENERATED one-factor GBM, seed 15, {args.assets} assets x {args.days} days",
        "estimators": "mean_historical + sample", "long_only": True, "repeat": args.repeat,
        "estimation_ms": statistics.median(timings) * 1e3, "cases": {}}
    for case in CASES:
        report["cases"][case.name] = run_case(case, est, args.repeat)
    if args.candidates:
        from optimizer_solvers import candidates
        report["candidates"] = candidates(est, args.repeat, log)
    loop_after = calib()
    loop = (loop_before + loop_after) / 2
    report["calib_s"] = {"before": loop_before, "after": loop_after}
    scale = REFERENCE_LOOP_S / loop
    report["normalised"] = {
        name: {k: v * scale for k, v in figures.items() if k.endswith("_ms")}
        for name, figures in report["cases"].items()}
    report["normalised"]["estimation_ms"] = report["estimation_ms"] * scale
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
