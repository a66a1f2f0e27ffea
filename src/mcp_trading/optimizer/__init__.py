"""The portfolio optimizer's pure core: estimators, methods, constraints (no I/O).

`problem.py` is the contract every estimator, method and face speaks. The service
(:8052, `services/optimizer/`) reads history, stores runs and places rebalances; this package
only computes.
"""

__all__: list[str] = []
