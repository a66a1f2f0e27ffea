"""optimizer :8052 — portfolio optimisation on the stored history: optimize, frontier,
walk-forward evaluation, the methods and estimators, stored runs with their reports, and
rebalances (preview, then confirm) through the kernel's pre-trade checks. The runbook calls
it ml-portfolio-optimizer.

The service's declaration only (read by the registry); its code is in the modules beside.
In distributed mode it is a replica: it folds the journal's events into a read-only copy of
the kernel's state, so a rebalance preview sizes orders from the account's positions and
asks the replica's `Kernel.check`; the confirm is a write, forwarded to the engine, which
checks again on the real kernel and places the orders. Previews live in the optimizer's
table of the shared database, so the engine's copy of the service finds them.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="optimizer",
    title="ml-portfolio-optimizer: portfolio optimisation, evaluation and rebalances",
    port=8052,
    rest="mcp_trading.services.optimizer.rest:build",
    mcp=("mcp_trading.services.optimizer.mcp:register",),
    health="mcp_trading.services.optimizer.health:rule",
    tasks=(TaskSpec("optimizer", "mcp_trading.services.optimizer.service:background"),),
    depends_on=("trading-engine",),
    distributed="replica",
    writes=(("POST", r"/rebalance/[^/]+/confirm"),),
)
