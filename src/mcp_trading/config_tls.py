"""The TLS settings: a base class of `Settings` (config.py), like config_backup.py.

Environment names: `MCP_TRADING_TLS_CERT`, `MCP_TRADING_TLS_KEY`, `MCP_TRADING_TLS_CA`,
`MCP_TRADING_TLS_RENEW_COMMAND`, `MCP_TRADING_TLS_CHECK_DAYS`, `MCP_TRADING_TLS_WARN_DAYS`,
`MCP_TRADING_TLS_RELOAD_INTERVAL_S`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TLSSettings"]


class TLSSettings(BaseSettings):
    """Whether the services serve HTTPS, which CA clients trust, how certificates renew."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    tls_cert: Path | None = Field(
        None, description="PEM certificate (chain) every service serves HTTPS with; with "
                          "MCP_TRADING_TLS_KEY. Unset: plain HTTP.")
    tls_key: Path | None = Field(
        None, description="PEM private key of MCP_TRADING_TLS_CERT (mode 0600 in production).")
    tls_ca: Path | None = Field(
        None, description="PEM CA bundle the CLI, scripts and MCP clients verify the services' "
                          "certificate with (besides the system's); a self-signed certificate "
                          "is its own CA.")
    tls_renew_command: str | None = Field(
        None, description="Shell command `certs renew` runs (e.g. `certbot renew`); it must "
                          "leave the new certificate at MCP_TRADING_TLS_CERT / _KEY. Unset: "
                          "the dev profile issues a new self-signed certificate.")
    tls_check_days: float = Field(
        7.0, ge=0, description="`certs check` exits non-zero when the certificate expires "
                               "within this many days.")
    tls_warn_days: float = Field(
        14.0, ge=0, description="Health: degraded (and one alert) when the served certificate "
                                "expires within this many days.")
    tls_reload_interval_s: float = Field(
        2.0, gt=0, description="How often each process checks the certificate files' mtime "
                               "and reloads them (SIGHUP reloads at once).")

    @model_validator(mode="after")
    def _both_or_neither(self) -> TLSSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("MCP_TRADING_TLS_CERT and MCP_TRADING_TLS_KEY go together: set both "
                             "(HTTPS) or neither (plain HTTP)")
        return self

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert is not None
