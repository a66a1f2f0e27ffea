"""Merge aid for issue 12's layout (delete once the issue's branches are merged).

Rewrites imports of the pre-issue-12 module paths (mcp_trading.platform.rest.*, .mcp.*,
.services.*, .distributed.*, .security, .principal, .views, .cli_*, .runner, ...) to the new
layout, in every .py file under src/, tests/ and benchmarks/, and in the service classes the
attribute `self.platform` to `self.core` (their ServiceCore). Idempotent. After running it:
`ruff check --select I --fix src tests benchmarks`, then mypy.

    python scripts/dev/relayout_imports.py
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
M = {
 "platform.alerts": "platform.alert_center",
 "platform.cli_accounts": "cli.accounts",
 "platform.cli_cache": "cli.cache",
 "platform.cli_distributed": "cli.distributed",
 "platform.cli_keys": "cli.keys",
 "platform.cli_ops": "cli.ops",
 "platform.distributed.launcher": "processes.launcher",
 "platform.distributed.serve": "processes.serve",
 "platform.runner": "processes.runner",
 "platform.supervisor": "processes.supervisor",
 "platform.procs": "processes.procs",
 "platform.mcp.tools_market": "services.market_data.mcp",
 "platform.mcp.tools_trading": "services.trading_engine.mcp",
 "platform.mcp.tools_views": "services.risk.mcp",
 "platform.rest.market_data": "services.market_data.rest",
 "platform.rest.providers": "services.providers.rest",
 "platform.rest.trading_engine": "services.trading_engine.rest",
 "platform.rest.orders": "services.orders.rest",
 "platform.rest.risk": "services.risk.rest",
 "platform.rest.portfolio": "services.portfolio.rest",
 "platform.rest.alerts": "services.alerts.rest",
 "platform.services.access": "security.access",
 "platform.services.accounts": "services.trading_engine.accounts",
 "platform.services.alerts": "services.alerts.service",
 "platform.services.bars": "services.market_data.bars",
 "platform.services.market_data": "services.market_data.service",
 "platform.services.orders": "services.orders.service",
 "platform.services.portfolio": "services.portfolio.service",
 "platform.services.providers": "services.providers.service",
 "platform.services.risk": "services.risk.service",
 "platform.services.trading": "services.trading_engine.service",
 "platform.views": "services.views",
 "platform.security": "security.keys",
 "platform.principal": "security.principal",
}
for n in ["alerts_relay", "forward", "peers", "publisher", "quotes", "replica", "wire"]:
    M[f"platform.distributed.{n}"] = f"processes.distributed.{n}"
for n in ["auth", "confirm", "models", "prompts", "proxy", "resources", "results", "server", "stdio"]:
    M[f"platform.mcp.{n}"] = f"faces.mcp.{n}"
for n in ["app", "fastpath", "guard", "protocol", "schemas"]:
    M[f"platform.rest.{n}"] = f"faces.rest.{n}"
PKGS = {"platform.distributed": "processes.distributed", "platform.mcp": "faces.mcp",
        "platform.rest": "faces.rest", "platform.services": "services"}


SERVICE_CLASSES = ["services/trading_engine/service.py", "services/orders/service.py",
                   "services/risk/service.py", "services/portfolio/service.py",
                   "services/trading_engine/accounts.py", "services/alerts/service.py"]
MARKET_DATA = {"self.platform.settings.resolved_database_url": "self.bars_url",
               "self.platform.instruments": "self.instruments",
               "self.platform.calendar": "self.calendar",
               "self.platform.quote_listeners": "self.quote_listeners",
               "self.platform.feed.name": "self.feed_name"}


def _from_package(pkg: str, names: str) -> list[str] | None:
    """`from mcp_trading.<pkg> import a, b as c` of moved modules, one import each."""
    out = []
    for raw in [n.strip() for n in names.strip("()\n ").replace("\n", " ").split(",") if n.strip()]:
        name, _, alias = raw.partition(" as ")
        full = f"{pkg}.{name}"
        if full not in M:
            return None
        parent, leaf = M[full].rsplit(".", 1)
        shown = alias or name
        out.append(f"from mcp_trading.{parent} import {leaf}" + (f" as {shown}" if shown != leaf else ""))
    return out


def rewrite_text(text: str) -> str:
    lines = text.split("\n")
    res: list[str] = []
    i = 0
    pattern = re.compile(r"^(\s*)from mcp_trading\.(platform(?:\.\w+)?) import (.*)$")
    while i < len(lines):
        m = pattern.match(lines[i])
        if m and m.group(2) in ("platform.rest", "platform.mcp", "platform"):
            indent, pkg, names = m.groups()
            j = i
            if names.strip() == "(":
                names, j = "", i + 1
                while lines[j].strip() != ")":
                    names += lines[j] + ","
                    j += 1
            new = _from_package(pkg, names)
            if new:
                res.extend(indent + n for n in new)
                i = j + 1
                continue
        res.append(lines[i])
        i += 1
    text = "\n".join(res)
    moved = {**M, **PKGS}
    for old in sorted(moved, key=len, reverse=True):
        text = re.sub(rf"\bmcp_trading\.{re.escape(old)}\b", f"mcp_trading.{moved[old]}", text)
    return text


def fix_service_bodies() -> None:
    pkg = ROOT / "src/mcp_trading"
    for rel in SERVICE_CLASSES:
        path = pkg / rel
        text = path.read_text()
        head, sep, tail = text.partition("class _Watch:")  # alerts: the task keeps its platform
        head = head.replace("self.platform.settings.default_account", "self.core.default_account")
        head = head.replace("def __init__(self, platform: Platform) -> None:",
                            "def __init__(self, core: ServiceCore) -> None:")
        head = head.replace("        self.platform = platform\n", "        self.core = core\n")
        if "alerts" not in rel:  # the alerts service keeps Platform for for_platform()
            head = head.replace("from mcp_trading.platform.platform import Platform\n",
                                "from mcp_trading.services.core import ServiceCore\n")
            head = re.sub(r"\b(closed_order_row|find_order_view)\(platform: Platform",
                          r"\1(core: ServiceCore", head)
        head = re.sub(r"\bself\.platform\b", "self.core", head)
        path.write_text(head + sep + tail)
    path = pkg / "services/market_data/service.py"
    text = path.read_text()
    for old, new in MARKET_DATA.items():
        text = text.replace(old, new)
    path.write_text(re.sub(r"\bself\.platform\.", "self.core.", text))


def main() -> None:
    for folder in ("src", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.resolve() == Path(__file__).resolve():
                continue
            text = path.read_text()
            new = rewrite_text(text)
            if new != text:
                path.write_text(new)
    fix_service_bodies()


if __name__ == "__main__":
    main()
