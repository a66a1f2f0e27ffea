"""strategies :8090 — the strategies (with their parameter schemas) and backtests: run, poll,
read (trades, equity, HTML report), compare, delete. The runbook calls it trading-strategies.

The service's declaration only (read by the registry); its code is in the modules beside.
In distributed mode it follows quotes and folds no journal events: a backtest reads only the
history bar store and writes only its own results table, never the journal. Live strategy
instances run in the trading engine's process (their runner places orders on the kernel, as
in embedded mode): this service forwards their routes (start, stop, list, read) there.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="strategies", title="trading-strategies: strategies, backtests and their reports",
    port=8090,
    rest="mcp_trading.services.strategies.rest:build",
    mcp=("mcp_trading.services.strategies.mcp:register",),
    health="mcp_trading.services.strategies.health:rule",
    tasks=(TaskSpec("backtests", "mcp_trading.services.strategies.service:background"),
           TaskSpec("instances", "mcp_trading.services.strategies.live:background",
                    in_engine=True)),
    depends_on=("trading-engine",),
    distributed="quotes",
    writes=(("POST", r"/strategies/[^/]+/instances"), ("DELETE", r"/strategies/instances/[^/]+")),
    engine_reads=(r"/strategies/instances", r"/strategies/instances/[^/]+"),
)
