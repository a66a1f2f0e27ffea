"""The secret-rotation settings: a base class of `Settings` (config.py), like config_backup.py.

Environment names: `MCP_TRADING_DATABASE_ADMIN_URL`, `_DATABASE_LOGIN_ROLES`,
`_DATABASE_OWNER_ROLE`, `MCP_TRADING_REDIS_ADMIN_URL`, `_REDIS_ACL_USER`, `_ROTATION_SETTLE_S`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["RotationSettings"]


class RotationSettings(BaseSettings):
    """Who may change the platform's database and Redis logins, and which logins those are."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    database_admin_url: str | None = Field(
        None, repr=False,
        description="PostgreSQL URL of a role that may create and alter the platform's login "
                    "roles (a superuser, or CREATEROLE with ADMIN on them); used only by "
                    "`secrets rotate --database`. Default: DATABASE_URL as configured.")
    database_login_roles: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["mcp_trading_a", "mcp_trading_b"],
        description="The two PostgreSQL login roles the platform uses in turn (comma-"
                    "separated): a rotation gives the idle one a new password, switches the "
                    "secrets file to it, then disables the other.")
    database_owner_role: str | None = Field(
        None, description="The role owning the platform's tables; the login roles are its "
                          "members and act as it (SET ROLE). It must not be a superuser. "
                          "Default: DATABASE_URL's user.")
    redis_admin_url: str | None = Field(
        None, repr=False,
        description="Redis URL of a user allowed ACL SETUSER; used only by `secrets rotate "
                    "--redis`. Default: REDIS_URL as configured.")
    redis_acl_user: str = Field(
        "mcp-trading", min_length=1,
        description="The Redis ACL user the platform logs in as (keys and channels limited to "
                    "redis_prefix, no admin or dangerous commands).")
    rotation_settle_s: float = Field(
        3.0, ge=0, le=600,
        description="A database or Redis rotation waits this long between switching the "
                    "secrets file to the new login and refusing the old one, so every process "
                    "has re-read the file (each re-checks it every 0.5 s).")

    @field_validator("database_login_roles", mode="before")
    @classmethod
    def _two_roles(cls, value: Any) -> list[str]:
        names = [n.strip() for n in value.split(",")] if isinstance(value, str) else list(value)
        names = [n for n in names if n]
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError("database_login_roles: give two different role names, e.g. "
                             "mcp_trading_a,mcp_trading_b")
        for name in names:
            if not name.replace("_", "").isalnum() or not name[0].isalpha():
                raise ValueError(f"database_login_roles: {name!r} must be letters, digits and "
                                 "underscores, starting with a letter")
        return names
