"""The e-mail alert settings: a base class of `Settings` (config.py), like config_backup.py.

Environment names: `MCP_TRADING_SMTP_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_STARTTLS`, `_FROM`,
`MCP_TRADING_ALERT_RECIPIENTS_OPS_TEAM`, `_TRADING_DESK`, `_SECURITY_TEAM`, and the escalation
levels' `_SENIOR_OPS`, `_DEV_LEAD`, `_MANAGEMENT` (comma-separated); `MCP_TRADING_ALERTING_FILE`
(routing, rules, escalation: services/alerts/alerting_file.py).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AlertMailSettings"]


class AlertMailSettings(BaseSettings):
    """Where alert e-mail goes and through which SMTP server; unset host = no e-mail."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    smtp_host: str | None = Field(None, description="SMTP server for alert e-mail; unset = off.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(None, description="SMTP login; unset = no authentication.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never logged).")
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    smtp_from: str = Field("mcp-trading@localhost", description="Sender address of alert mail.")
    alert_recipients_ops_team: str = Field(
        "", description="Comma-separated addresses of the ops-team list.")
    alert_recipients_trading_desk: str = Field(
        "", description="Comma-separated addresses of the trading-desk list (halt, resume, "
                        "maintenance).")
    alert_recipients_security_team: str = Field(
        "", description="Comma-separated addresses of the security-team list.")

    alert_recipients_senior_ops: str = Field(
        "", description="Comma-separated addresses of senior operations (escalation level 2).")
    alert_recipients_dev_lead: str = Field(
        "", description="Comma-separated addresses of the development lead (escalation level 2).")
    alert_recipients_management: str = Field(
        "", description="Comma-separated addresses of the CTO / management (escalation level 3).")
    alerting_file: Path | None = Field(
        None, description="Alert routing, rules and escalation (TOML); unset = the shipped "
                          "mcp_trading/data/alerts/alerting.toml.")

    @classmethod
    def recipient_lists(cls) -> list[str]:
        """The list names the settings hold (ops-team, trading-desk, senior-ops, ...)."""
        prefix = "alert_recipients_"
        return [name[len(prefix):].replace("_", "-") for name in cls.model_fields
                if name.startswith(prefix)]

    def recipients(self, mail_list: str) -> list[str]:
        """The addresses of one list (ops-team, trading-desk, security-team)."""
        raw = str(getattr(self, "alert_recipients_" + mail_list.replace("-", "_"), ""))
        return [a.strip() for a in raw.split(",") if a.strip()]
