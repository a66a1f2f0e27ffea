"""Files that hold secrets must be the owner's alone: the production profile will not start
with one that others may read.

Errors (also derived from the root, domain/errors.py: TradingError)::

    ValueError
    └── ExposedFileError   the production profile with a secrets file (or key file) that
                           its group or other users may read or write

Checked before anything else is wired (`check_secret_files`: the embedded runner calls it
before it tightens the data directory's modes, which would hide an exposure that already
happened; security/authenticator.py's build_authenticator calls it for every server). The
platform writes its own secrets file 0600 (config_secrets.py); a file another tool copied or
an operator edited with a loose umask is what this catches. Never reads the file's content.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_trading.domain.errors import TradingError

if TYPE_CHECKING:
    from mcp_trading.config import Settings
    from mcp_trading.security.authenticator import Profile

__all__ = ["ExposedFileError", "check_private_file", "check_secret_files"]


class ExposedFileError(TradingError, ValueError):
    """The production profile was given a secret-holding file that others may read."""


def check_private_file(profile: Profile, path: Path, what: str, setting: str) -> None:
    """Refuse, in production, `path` (when it exists) if group or others have any access to
    it; `what` names the file and `setting` where its location is configured."""
    if profile != "production":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return  # nothing there to expose (the platform creates its secrets file 0600)
    if mode & 0o077:
        raise ExposedFileError(
            f"{what} {path} has mode {mode:04o}: its group or other users may read it, so the "
            f"production profile will not start. Make it the owner's alone: `chmod 600 {path}` "
            f"(and check who read it meanwhile); its location is {setting}")


def check_secret_files(settings: Settings) -> None:
    """Every secret-holding file the settings name: the secrets file and the TLS key (the
    certificate is public; its key is not)."""
    check_private_file(settings.profile, settings.resolved_secrets_file, "the secrets file",
                       "MCP_TRADING_SECRETS_FILE")
    if settings.tls_key is not None:
        check_private_file(settings.profile, settings.tls_key, "the TLS private key",
                           "MCP_TRADING_TLS_KEY")
