"""The certificate's place in health: `health --check-all`'s "certificate" row (days to
expiry of what a service presents, else of the configured file) and the platform's one
alert per certificate when it expires within MCP_TRADING_TLS_WARN_DAYS (default 14).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mcp_trading.security.cert_ops import served_certificate
from mcp_trading.security.certs import CertificateError, CertificateInfo, describe

if TYPE_CHECKING:
    from mcp_trading.config import Settings

__all__ = ["CertificateWatch", "certificate_check"]


def certificate_check(settings: Settings, served: tuple[str, int] | None) -> dict[str, Any] | None:
    """The health row (None without TLS): down when expired or unreadable, degraded within
    MCP_TRADING_TLS_WARN_DAYS. `served` (host, port) reads what a new handshake presents."""
    if settings.tls_cert is None:
        return None
    source = f"served on port {served[1]}" if served else str(settings.tls_cert)
    try:
        info = served_certificate(*served) if served else describe(settings.tls_cert)
    except (OSError, CertificateError) as exc:
        return {"check": "certificate", "status": "down", "days_left": None,
                "detail": f"cannot read the certificate {source}: {exc}"}
    return _row(info, settings.tls_warn_days, source)


def _row(info: CertificateInfo, warn_days: float, source: str) -> dict[str, Any]:
    days = info.days_left()
    status = "down" if days <= 0 else "degraded" if days <= warn_days else "healthy"
    hint = "" if status == "healthy" else " (run `mcp-trading certs renew`)"
    return {"check": "certificate", "status": status, "days_left": round(days, 2),
            "detail": f"{days:.1f} days to expiry ({source}, Not After "
                      f"{info.not_after:%Y-%m-%d %H:%M} UTC){hint}"}


class CertificateWatch:
    """Polled by the platform (at most every `interval_s`); says once per certificate
    (serial) when it expires within `warn_days`."""

    def __init__(self, settings: Settings, *, interval_s: float = 60.0) -> None:
        self.settings = settings
        self.interval_s = interval_s
        self._next = 0.0
        self._alerted_for: int | None = None

    def poll(self, now_monotonic: float | None = None) -> str | None:
        now = time.monotonic() if now_monotonic is None else now_monotonic
        if self.settings.tls_cert is None or now < self._next:
            return None
        self._next = now + self.interval_s
        try:
            info = describe(self.settings.tls_cert)
        except (OSError, CertificateError):
            return None
        row = _row(info, self.settings.tls_warn_days, str(self.settings.tls_cert))
        if row["status"] == "healthy":
            self._alerted_for = None
            return None
        if self._alerted_for == info.serial:
            return None
        self._alerted_for = info.serial
        return f"TLS certificate {info.subject}: {row['detail']}"
