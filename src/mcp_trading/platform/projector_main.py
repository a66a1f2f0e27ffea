"""The projector child of a platform whose database login lives in the secrets file:
`python -m mcp_trading.platform.projector_main` (adapters/store/projector_process.py's main,
with the login installed first).

The parent passes the database URLs without the secrets file's login and the file's path in
`MCP_TRADING_SECRETS_FILE`; every connection the child opens asks the file (re-read when it
changes), so a rotated password reaches it without a restart and never sits in `ps` output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp_trading.adapters.store.engine import set_login_source
from mcp_trading.adapters.store.projector_process import ProjectorProcess
from mcp_trading.adapters.store.projector_process import main as projector_main
from mcp_trading.config import Settings
from mcp_trading.config_secrets import load_secrets

__all__ = ["main", "projector_child"]

_FILE_ENV = "MCP_TRADING_SECRETS_FILE"


def projector_child(settings: Settings, reports: str, journal: str) -> ProjectorProcess:
    """The projector child for the settings (not started)."""
    settings.resolved_log_dir.mkdir(parents=True, exist_ok=True)
    log = str(settings.resolved_log_dir / "projector.log")
    raw = settings.database_url or ""
    if settings.secrets().database is None or reports != journal or journal == raw:
        return ProjectorProcess(reports, settings.projection_interval_s, log, journal_url=journal)
    # PostgreSQL with the secrets file's login: the URL as configured, the login from the file
    return ProjectorProcess(raw, settings.projection_interval_s, log, journal_url=raw,
                            module=__name__,
                            env={_FILE_ENV: str(settings.resolved_secrets_file.absolute())})


def main(argv: list[str] | None = None) -> int:
    path = os.environ.get(_FILE_ENV)
    if path:
        def login() -> tuple[str | None, str] | None:
            found = load_secrets(Path(path)).database
            return None if found is None else (found.user, found.password)

        set_login_source(login)
    return projector_main(argv)


if __name__ == "__main__":
    sys.exit(main())
