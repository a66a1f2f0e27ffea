"""What every `mcp_servers/<service>.py` runs (the runbook's "Restarting Individual Services").

    python mcp_servers/market_data_server.py [--data-dir DIR]

When a platform already runs here (the PID file, or a live distributed supervisor), the
service is restarted there (`mcp-trading restart SERVICE`) and the script exits with its
code. Otherwise the script runs the service itself, in the foreground: distributed mode
(`MCP_TRADING_DEPLOYMENT=distributed`) serves that one service (`mcp-trading serve`);
embedded mode has no kernel without the platform, so it starts the embedded platform
(`mcp-trading start`), which serves this service with the others. Either way the process
is named for the script, so the runbook's `pkill -f market_data_server.py` finds it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # a checkout without an installed package
    sys.path.insert(0, str(ROOT / "src"))

__all__ = ["main"]


def main(service: str, argv: list[str] | None = None) -> int:
    """Restart `service` where a platform runs it, else run it; the exit code."""
    from mcp_trading.cli import app
    from mcp_trading.cli.ops import _running
    from mcp_trading.config import Settings

    parser = argparse.ArgumentParser(description=f"Run or restart the {service} service.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Data directory (default ./var or MCP_TRADING_DATA_DIR)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="Seconds to wait for a restart to be healthy")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    where = ["--data-dir", str(settings.data_dir)]
    if _running(settings) is not None:
        verb = ["restart", service, *where, "--timeout", str(args.timeout)]
    elif settings.deployment == "distributed":
        verb = ["serve", service, *where]
    else:
        print(f"no platform runs here: starting the embedded platform, which serves {service}",
              file=sys.stderr)
        verb = ["start", *where]
    try:
        app(verb, prog_name="mcp-trading")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
