"""POST /evaluate: the core's walk-forward evaluation (optimizer/evaluate.py) of methods —
and expected-returns estimators — side by side on stored daily history, stored as a run.

Each (method, estimator) pair is one candidate: estimated on the trailing `window` only,
rebalanced every `rebalance_every` periods; out-of-sample annual return, volatility, Sharpe,
max drawdown and turnover per candidate, and `comparisons` saying whether each other
estimator beat mean_historical with the same method. Daily data only (frequency 252), so
the prices are the bar store's adjusted closes (symbols, start, end), not inline tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.evaluate import Candidate, evaluate
from mcp_trading.services.optimizer import compute
from mcp_trading.services.optimizer.inputs import EvaluateBody, parse_body

if TYPE_CHECKING:
    from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["evaluate_now"]


def _candidates(body: EvaluateBody) -> list[Candidate]:
    unknown = sorted(set(body.options) - set(body.methods))
    if unknown:
        raise InvalidError(f"options.{unknown[0]}: {unknown[0]} is not one of the methods "
                           "evaluated; options are {method: its options}",
                           code="INVALID_OPTIMIZATION", field=f"options.{unknown[0]}")
    estimators = body.estimators or [body.expected_returns]
    out = []
    for i, method in enumerate(body.methods):
        spec = compute.method_spec(method, f"methods.{i}")
        for name in estimators:
            compute.estimates_check(name)
            out.append(Candidate(method=spec.name, expected_returns=name,
                                 covariance=body.covariance,
                                 options=body.options.get(method, {}),
                                 estimator_options=body.estimator_options,
                                 label=f"{spec.name} / {name}"))
    return out


def evaluate_now(svc: OptimizerService, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Walk forward each candidate (blocking)."""
    body = parse_body(EvaluateBody, raw)
    if body.prices or body.returns:
        raise InvalidError("evaluate reads stored daily history: give symbols, start and end "
                           "(inline prices carry no dates)", code="INVALID_OPTIMIZATION",
                           field="prices" if body.prices else "returns")
    if body.frequency != 252:
        raise InvalidError("frequency: evaluate works on daily closes (252 periods a year)",
                           code="INVALID_OPTIMIZATION", field="frequency")
    candidates = _candidates(body)
    closes = svc.closes(body)
    assert closes.ts is not None
    if closes.table.shape[0] <= body.window + 1:
        raise InvalidError(f"window: {body.window} periods leave no out-of-sample days in "
                           f"{closes.table.shape[0]} closes; shorten the window or widen the "
                           "range", code="INVALID_OPTIMIZATION", field="window")
    constraints = compute.build_constraints(body.constraints, closes.symbols, None)
    result = evaluate(closes.table, closes.symbols, closes.ts, candidates, window=body.window,
                      rebalance_every=body.rebalance_every, frequency=body.frequency,
                      risk_free_rate=body.risk_free_rate, constraints=constraints,
                      benchmark=closes.benchmark)
    answer = {
        "methods": list(body.methods), "symbols": list(result.symbols),
        "window": result.window, "rebalance_every": result.rebalance_every,
        "start": result.start, "end": result.end, "basis": result.basis,
        "risk_free_rate": body.risk_free_rate,
        "results": [{"name": r.name, "method": r.candidate.method,
                     "expected_returns": r.candidate.expected_returns,
                     "covariance": r.candidate.covariance, "metrics": r.metrics,
                     "rebalances": r.rebalances, "notes": list(r.notes),
                     "equity": [[day, value] for day, value in r.equity]}
                    for r in result.results],
        "comparisons": list(result.comparisons), "notes": list(closes.notes)}
    return svc.save_run("evaluate", body, closes, answer)
