"""Logging: to <log dir>/platform.log and the console, with secrets masked in every line."""

from __future__ import annotations

import logging
import logging.handlers

from mcp_trading.config import Settings

__all__ = ["configure_logging"]


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from mcp_trading.security.redact import redact

        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def configure_logging(settings: Settings, level: int = logging.INFO, *,
                      name: str = "platform") -> None:
    """Log to <log dir>/<name>.log (one file per process: distributed services log apart)."""
    log_dir = settings.resolved_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(log_dir / f"{name}.log",
                                                        maxBytes=50 * 1024 * 1024, backupCount=5)
    console = logging.StreamHandler()
    root = logging.getLogger()
    root.setLevel(level)
    # the MCP SDK logs every request at INFO; keep its warnings, not one line per tool call
    logging.getLogger("mcp").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health probe otherwise
    for handler in (file_handler, console):
        handler.setFormatter(fmt)
        handler.addFilter(_Redact())
        root.addHandler(handler)
