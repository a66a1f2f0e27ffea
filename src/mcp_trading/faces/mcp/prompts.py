"""MCP prompts an agent actually uses: the pre-trade checklist (the daily briefing, which
quotes the stored reports, is the portfolio service's: services/portfolio/reports_mcp.py).

A prompt is a worked plan in terms of this platform's own tools, so the agent follows the
safe path (look, check, preview, confirm) rather than guessing one.
"""

from __future__ import annotations

from mcp.server import MCPServer

__all__ = ["register_checklist"]


def register_checklist(server: MCPServer, _platform: object = None) -> None:
    @server.prompt(title="Pre-trade checklist")
    def pre_trade_checklist(symbol: str, side: str, qty: str) -> str:
        """Steps to follow before placing an order: market, account, risk, preview, confirm."""
        return (
            f"You are about to {side} {qty} {symbol} on the paper venue. Before placing it:\n"
            f"1. market_clock: is the market open? Market orders are refused outside a session.\n"
            f"2. get_quote(symbol={symbol!r}): note bid, ask and the quote's time; a stale quote "
            f"means the feed is down: stop.\n"
            f"3. get_account and get_positions: check buying power, the trading state (only "
            f"'active' takes new exposure; 'reducing' takes only orders that reduce a position) "
            f"and your current {symbol} position.\n"
            f"4. risk_status and risk_limits: stop if the status is 'breach'; size the order "
            f"within the per-order and position limits.\n"
            f"5. preview_order with the order's fields as its arguments (symbol={symbol!r}, "
            f"side={side!r}, qty={qty!r}, type, time_in_force, limit_price or stop_price as "
            f"the type needs, and a fresh client_order_id): read the estimated notional and "
            f"every check; if it is refused, read the reason code and figures and correct "
            f"the order, do not retry blindly.\n"
            f"6. submit_order with exactly the same arguments plus the confirmation_token "
            f"(valid 60 s, once).\n"
            f"7. If the acknowledgement times out, the order may exist: find_order with your "
            f"client_order_id, and retry only with that same client_order_id.\n"
            f"8. get_order until it is filled, canceled or expired; report what happened.")

