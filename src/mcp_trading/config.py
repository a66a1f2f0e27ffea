"""Settings from the environment and `.env` (pydantic-settings). Every setting is documented.

Environment variables are upper case with the `MCP_TRADING_` prefix, except the
conventional `DATABASE_URL`.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from mcp_trading.config_alerts import AlertMailSettings
from mcp_trading.config_backup import BackupSettings
from mcp_trading.config_equity import EquitySettings
from mcp_trading.config_feeds import FeedSettings, config_error, listed
from mcp_trading.config_limits import LimitSettings
from mcp_trading.config_logs import LogSettings
from mcp_trading.config_reports import ReportSettings
from mcp_trading.config_rotation import RotationSettings
from mcp_trading.config_secrets import SecretsSettings, with_login
from mcp_trading.config_tls import TLSSettings
from mcp_trading.domain.models import CommissionModel, LatencyModel, SlippageModel
from mcp_trading.domain.numbers import BPS, CASH, parse_decimal
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.services import registry  # light: the specs name their code by import path

__all__ = ["Settings"]


class Settings(FeedSettings, BackupSettings, AlertMailSettings, ReportSettings,
               EquitySettings, RotationSettings, SecretsSettings, LogSettings, LimitSettings,
               TLSSettings):
    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    data_dir: Path = Field(Path("var"), description="Where the journal, logs and reports live.")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "MCP_TRADING_DATABASE_URL"),
        description="sqlite:///path or postgresql://user@host/db; default: SQLite in data_dir.")
    deployment: Literal["embedded", "distributed"] = Field(
        "embedded", description="embedded: every service in one process (SQLite, in-memory "
                                "bus); distributed: one process per service over "
                                "PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).")
    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("REDIS_URL", "MCP_TRADING_REDIS_URL"),
        description="redis://[:password@]host:port/db, the bus and caches of distributed mode.",
        repr=False)
    redis_prefix: str = Field(
        "mcp-trading:", min_length=1,
        description="Every Redis key the platform creates starts with this (a shared Redis "
                    "keeps other users' keys apart; `mcp-trading cache clear` stays inside it).")
    replica_nice: int = Field(
        10, ge=0, le=19,
        description="Distributed: how much lower the CPU priority of the read services is than "
                    "the trading engine's (Unix nice, applied to the service's own session "
                    "group too, with SCHED_BATCH). On a shared host the single writer is "
                    "served first and the replicas catch up; 0 treats them alike.")
    default_account: str = Field("paper", description="Paper account created on first start.")
    default_cash: Decimal = Field(Decimal(100_000), ge=0, description="Its starting cash (USD).")
    calendar: Literal["always_open", "nyse"] = Field(
        "always_open", description="Session calendar for the simulator feed (nyse: XNYS hours).")
    commission_per_share: Decimal = Field(Decimal(0), ge=0, description="Commission per share.")
    commission_bps: Decimal = Field(Decimal(0), ge=0, description="Commission, bps of notional.")
    commission_min: Decimal = Field(Decimal(0), ge=0, description="Minimum commission per fill.")
    slippage_bps: Decimal = Field(Decimal(0), ge=0, description="Adverse fill slippage in bps.")
    latency_ms: int = Field(0, ge=0, description="Order latency to the paper venue (ms).")
    snapshot_every: int = Field(100_000, ge=0, description="Snapshot every N events (0: never).")
    snapshot_mode: Literal["fork", "thread"] = Field(
        "fork", description="Who encodes a snapshot: a forked child process (no GIL shared with "
                            "the writer; where fork() exists) or a worker thread.")
    dedupe_memory_days: float = Field(
        1.0, gt=0, description="Keep closed orders' client_order_id duplicate checks in memory "
                               "this many days; older ones are checked against the store.")

    profile: Literal["dev", "production"] = Field(
        "dev", description="dev: bind 127.0.0.1 and trust credential-less loopback REST calls as "
                           "operator; production: no such trust, a real JWT_SECRET is required.")
    host: str | None = Field(None, description="Bind address (default 127.0.0.1 in dev, 0.0.0.0 "
                                               "in production).")
    jwt_secret: str = Field(
        "dev-insecure-change-me", validation_alias=AliasChoices("JWT_SECRET", "MCP_TRADING_JWT_SECRET"),
        description="HMAC key for JWTs (JWT_SECRET); production refuses the default.", repr=False)
    port_market_data: int = Field(8001, ge=0, le=65535, description="market-data service port.")
    port_trading_engine: int = Field(8010, ge=0, le=65535, description="trading-engine port.")
    port_orders: int = Field(8011, ge=0, le=65535, description="orders service port.")
    port_risk: int = Field(8012, ge=0, le=65535, description="risk service port.")
    port_portfolio: int = Field(8013, ge=0, le=65535, description="portfolio service port.")
    port_providers: int = Field(8093, ge=0, le=65535, description="providers service port.")
    port_alerts: int = Field(8100, ge=0, le=65535, description="alerts service port.")
    port_strategies: int = Field(8090, ge=0, le=65535, description="trading-strategies port.")
    port_optimizer: int = Field(8052, ge=0, le=65535,
                                description="ml-portfolio-optimizer (optimizer) port.")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Where each service is reached, as JSON: {"trading-engine": '
                    '"http://10.0.0.5:8010", ...}; a service not named is reached on this '
                    'host at its port.')
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names (comma-separated or JSON) a request's Host header may name, "
                    "besides the always-allowed loopback names, the bind address and the hosts "
                    "of service_urls; any other Host is refused with 421 (DNS rebinding).")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra browser origins (scheme://host[:port], comma-separated or JSON) "
                    "allowed to send state-changing requests; they still need a credential. "
                    "The platform's own origins are always allowed; any other Origin is "
                    "refused with 403 on POST/PUT/PATCH/DELETE.")
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=64 * 1024 * 1024,
        description="Default request body limit in bytes (413 beyond it, before the body is "
                    "read); routes that need more declare their own (POST /orders/batch: 1 MiB).")
    header_timeout_s: float = Field(
        5.0, gt=0, le=300,
        description="A request's headers must arrive within this many seconds of the connection "
                    "(slowloris and half-open connections are dropped).")
    body_timeout_s: float = Field(
        10.0, gt=0, le=600,
        description="A request's body must arrive within this many seconds of its headers (408).")
    keep_alive_timeout_s: int = Field(
        5, ge=1, le=300, description="An idle kept-alive connection is closed after this long.")
    max_connections: int = Field(
        1000, ge=1, le=100_000,
        description="Open connections per service port; one more is answered 503 and closed.")
    feed_interval_ms: int = Field(250, ge=10, description="Simulator quote interval per symbol.")
    feed_seed: int = Field(7, description="Simulator random seed (same seed, same prices).")
    ack_trace: Path | None = Field(
        None, description="Debug aid (benchmarks/soak.py --ack-trace): time each stage of every "
        "acknowledgement and write the figures to this file at stop; off when unset.")
    feed_stale_s: float = Field(5.0, gt=0, description="Feed older than this is 'stale'.")
    log_dir: Path | None = Field(None, description="Logs (default <data_dir>/logs).")
    webhook_urls: list[str] = Field(default_factory=list, description="Alert webhooks (JSON POST).")
    projection: Literal["process", "thread", "off"] = Field(
        "process", description="Where the orders/fills/positions tables are kept up to date: a "
                               "child process (uses the second core), a thread, or off.")
    projection_interval_s: float = Field(
        0.5, ge=0, description="Refresh the orders/fills/positions tables at most this often "
                               "(0: only on `mcp-trading journal project`).")
    min_free_disk_mb: int = Field(500, ge=0, description="Health: degraded below this free space.")
    # history
    history_url: str | None = Field(
        None, description="The history bar store: memory://, sqlite:///path or "
        "postgresql://user@host/db. Default: memory when the journal is in memory, the "
        "journal's database when that is PostgreSQL, else SQLite <data_dir>/history.db (a file "
        "of its own, so a big import never holds the journal's write lock).")

    # strategies
    strategy_dir: Path | None = Field(
        None, description="A directory of user strategy files (*.py, each defining Strategy "
                          "subclasses with a name), loaded after the built-ins; a file that "
                          "fails to import is reported and skipped. Its code runs in the "
                          "strategies service: trust it like the platform's own.")
    strategy_callback_timeout_s: float = Field(
        5.0, gt=0, le=600, description="A live strategy instance's callback (on_bar, on_fill, "
        "...) that does not return within this many seconds stops the instance, as one that "
        "raises does (journaled, with an alert).")

    def port(self, service: str) -> int:
        """The port of a registered service: its typed `port_*` setting, else (a service added
        to the registry) MCP_TRADING_PORT_<NAME> or its spec's default."""
        spec = registry.get(service)
        if spec.port_setting in type(self).model_fields:
            return int(getattr(self, spec.port_setting))
        raw = os.environ.get(spec.port_env)
        if raw is None:
            return spec.port
        try:
            port = int(raw)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise ValueError(f"{spec.port_env}: {raw!r} is not a port; use a whole number from 0 "
                             "to 65535")
        return port

    @field_validator("default_cash", "commission_per_share", "commission_min", "commission_bps",
                     "slippage_bps", mode="before")
    @classmethod
    def _bounded_decimal(cls, value: object, info: ValidationInfo) -> Decimal:
        """Money and bps as the domain parses every number: stated bounds, a clear error."""
        name = info.field_name or "value"
        return parse_decimal(name, value, BPS if name.endswith("_bps") else CASH,
                             error=config_error)

    @field_validator("service_urls")
    @classmethod
    def _known_services(cls, urls: dict[str, str]) -> dict[str, str]:
        for name, url in urls.items():
            registry.get(name)  # UnknownServiceError (a ValueError) names the known ones
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"the URL of {name} must start with http:// or https://")
        return urls

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_names(cls, value: Any) -> list[str]:
        names = []
        for item in listed(value, "allowed_hosts"):
            name = item.strip().lower()
            if not name:
                continue
            if "/" in name or name.count(":") == 1 or (name.startswith("[") and "]:" in name):
                raise ValueError(f"allowed_hosts: {item!r} must be a bare host name or address "
                                 "(no scheme, port or path), e.g. trading.example.com")
            names.append(name)
        return names

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> list[str]:
        origins = []
        for item in listed(value, "allowed_origins"):
            origin = item.strip().lower().rstrip("/")
            if not origin:
                continue
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(f"allowed_origins: {item!r} must be scheme://host[:port] (http "
                                 "or https, no path), e.g. https://dashboard.example.com")
            origins.append(origin)
        return origins

    def service_url(self, service: str) -> str:
        """The base URL other processes use to reach `service` (no trailing slash)."""
        registry.get(service)  # UnknownServiceError (a ValueError) names the known ones
        url = self.service_urls.get(service)
        if url:
            return url.rstrip("/")
        host = self.bind_host
        if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reached on loopback locally
            host = "127.0.0.1"
        scheme = "https" if self.tls_cert is not None else "http"
        return f"{scheme}://{host}:{self.port(service)}"

    @property
    def bind_host(self) -> str:
        if self.host:
            return self.host
        return "127.0.0.1" if self.profile == "dev" else "0.0.0.0"

    @property
    def resolved_log_dir(self) -> Path:
        return self.log_dir if self.log_dir is not None else self.data_dir / "logs"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir if self.backup_dir is not None else self.data_dir / "backups"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "mcp-trading.pid"

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL with the secrets file's database login, else SQLite in data_dir."""
        if self.database_url:
            if self.database_url.startswith(("postgresql", "postgres:")):
                return with_login(self.database_url, self.secrets().database)
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trading.db').resolve()}"

    @property
    def resolved_redis_url(self) -> str | None:
        """REDIS_URL with the secrets file's Redis login (ACL user and password)."""
        if self.redis_url and self.redis_url.startswith(("redis://", "rediss://")):
            return with_login(self.redis_url, self.secrets().redis)
        return self.redis_url

    @property
    def resolved_history_url(self) -> str:
        """Where the history bars live; see the history_url setting for the default."""
        if self.history_url:
            return self.history_url
        journal = self.resolved_database_url
        if journal in ("memory://", "memory:"):
            return "memory://"
        if journal.startswith(("postgresql", "postgres:")):
            return journal
        return f"sqlite:///{(self.data_dir / 'history.db').resolve()}"

    @property
    def resolved_reports_url(self) -> str:
        """Where the projection tables are kept. SQLite has one writer per file, so there they
        live in their own file (the projector then never holds the journal's write lock);
        PostgreSQL locks rows, so there they share the journal's database."""
        url = self.resolved_database_url
        if url.startswith("sqlite:///"):
            journal_path = Path(url.removeprefix("sqlite:///"))
            return f"sqlite:///{journal_path.with_name(journal_path.stem + '-reports.db')}"
        return url

    def kernel_config(self) -> KernelConfig:
        return KernelConfig(
            default_account=self.default_account,
            default_cash=self.default_cash,
            commission=CommissionModel(per_share=self.commission_per_share, bps=self.commission_bps,
                                       minimum=self.commission_min),
            slippage=SlippageModel(bps=self.slippage_bps),
            latency=LatencyModel(order_ns=self.latency_ms * 1_000_000),
            equity_at_close=self.equity_close_snapshot,
            initial_limits=self.initial_limits(), account_limits=self.account_limits(),
        )
