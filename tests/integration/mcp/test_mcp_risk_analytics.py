"""The risk-analytics MCP tools (risk_var, risk_stress, risk_concentration): the same figures
as REST, their output schemas, a bad argument as an error result naming the field."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.mcp.conftest import MakeKey, call, connect, mcp_app, run, tool_map

from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.platform import Platform


def test_var_stress_and_concentration_tools_answer_on_the_sample(platform: Platform,
                                                                  make_key: MakeKey) -> None:
    import_sample(platform.history.store())
    kernel = platform.kernel_runtime.kernel
    kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="buy", qty=50))
    platform.kernel_runtime.journal.flush()

    async def body() -> None:
        async with connect(mcp_app(platform, "risk"), make_key("viewer")) as client:
            tools = await tool_map(client)
            assert {"risk_var", "risk_stress", "risk_concentration"} <= set(tools)
            var = await call(client, tools, "risk_var", {
                "account_id": "paper", "confidence": [0.99], "horizon": [1, 10],
                "method": ["parametric"], "window": 500})
            assert not var.is_error, var.structured_content
            data = var.structured_content or {}
            assert [(f["method"], f["horizon_days"]) for f in data["figures"]] == [
                ("parametric", 1), ("parametric", 10)]
            assert data["window"]["days"] == 500 and data["excluded"] == []
            assert Decimal(data["figures"][1]["var"]) > Decimal(data["figures"][0]["var"])
            stress = await call(client, tools, "risk_stress", {"scenarios": ["largest_down_30"]})
            assert not stress.is_error, stress.structured_content
            [shock] = (stress.structured_content or {})["scenarios"]
            assert shock["pnl_by_symbol"].keys() == {"AAPL"}
            conc = await call(client, tools, "risk_concentration", {})
            assert (conc.structured_content or {})["hhi"] == 1.0
            bad = await call(client, tools, "risk_var", {"method": ["montecarlo"]})
            assert bad.is_error
            assert (bad.structured_content or {})["field"] == "method"

    run(body())
