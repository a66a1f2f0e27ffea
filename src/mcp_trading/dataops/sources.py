"""What a backup copies: the stores the settings name, and the settings without secrets.

Roles: `reports` (projection tables), `journal` (journal, snapshots, API keys), `history`
(bars, imported series). SQLite keeps each in a file of its own (<data_dir>/trading.db,
trading-reports.db, history.db by default); PostgreSQL keeps them in one database, dumped
once (its entry lists every role it holds). Order: reports, journal, history — the reports
copy is never ahead of the journal copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mcp_trading.config import Settings
from mcp_trading.dataops.copies import sqlite_path
from mcp_trading.domain.errors import InvalidError

__all__ = ["Source", "settings_without_secrets", "sources_of", "url_of_role"]

_ORDER = ("reports", "journal", "history")
_SECRET = re.compile(r"(secret|password|passwd|token|api_key|apikey|credential|key$)", re.I)


@dataclass(frozen=True, slots=True)
class Source:
    role: str  # the first role it holds, in _ORDER
    roles: tuple[str, ...]
    kind: str  # sqlite | postgres
    url: str
    path: Path | None  # SQLite only
    name: str  # file name (SQLite) or database name (PostgreSQL)


def url_of_role(settings: Settings, role: str) -> str:
    return {"reports": settings.resolved_reports_url, "journal": settings.resolved_database_url,
            "history": settings.resolved_history_url}[role]


def _key(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:{Path(parsed.database or '').resolve()}"
    return f"pg:{parsed.host}:{parsed.port}:{parsed.database}"


def sources_of(settings: Settings) -> list[Source]:
    """The distinct stores behind the roles; InvalidError for an in-memory journal."""
    by_key: dict[str, list[str]] = {}
    urls: dict[str, str] = {}
    for role in _ORDER:
        url = url_of_role(settings, role)
        if url.startswith("memory:"):
            if role == "journal":
                raise InvalidError("the journal is in memory (memory://): there is nothing "
                                   "on disk to back up", field="database_url")
            continue
        key = _key(url)
        by_key.setdefault(key, []).append(role)
        urls.setdefault(key, url)
    out = []
    for key, roles in by_key.items():
        url = urls[key]
        path = sqlite_path(url)
        if path is not None and not path.exists():
            if "journal" in roles:
                raise InvalidError(f"the journal {path} does not exist: start the platform "
                                   "once (or check MCP_TRADING_DATA_DIR)", field="data_dir")
            continue  # e.g. no history imported yet: nothing to copy
        if path is not None:
            out.append(Source(roles[0], tuple(roles), "sqlite", url, path, path.name))
        else:
            out.append(Source(roles[0], tuple(roles), "postgres", url, None,
                              make_url(url).database or "postgres"))
    out.sort(key=lambda s: _ORDER.index(s.role))
    return out


def _clean(name: str, value: Any) -> Any:
    if _SECRET.search(name):
        return None if value is None else "<not backed up: secret>"
    if isinstance(value, str) and "://" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:  # not a database URL: keep only its scheme and host
            return value.split("?", 1)[0].split("@")[-1]
    if isinstance(value, list):
        return [_clean(name, v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(k, v) for k, v in value.items()}
    return value


def settings_without_secrets(settings: Settings) -> dict[str, Any]:
    """Every setting as JSON, secrets replaced and URL passwords masked; webhooks as a count
    (their URLs often carry tokens)."""
    raw = settings.model_dump(mode="json")
    raw["webhook_urls"] = f"<{len(settings.webhook_urls)} webhook URLs, not backed up>"
    return {k: _clean(k, v) for k, v in sorted(raw.items())}
