"""Where reports live: files under `<data dir>/reports/<date>/<name>.{json,html,txt}` and one
row per (date, name) in the `reports` table (migration 0010) of the platform's database, so
every host of a distributed platform serves them. Writing a report again replaces both.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import check_schema, upgrade
from mcp_trading.adapters.store.schema import reports
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["FORMATS", "Report", "ReportStore", "check_key", "platform_store_url", "report_dir",
           "write_files"]

FORMATS = ("json", "html", "txt")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Report:
    """One report of one day in its three forms."""

    name: str
    day: str
    document: dict[str, Any]
    text: str
    html: str

    def summary(self) -> dict[str, Any]:
        doc = self.document
        return {"date": self.day, "name": self.name, "generated_ns": doc.get("generated_ns"),
                "summary": doc.get("summary"), "activity": doc.get("activity")}

    def json_text(self) -> str:
        return json.dumps(self.document, indent=2, allow_nan=False) + "\n"


def platform_store_url(settings: Settings) -> str:
    """The platform's database URL; NotFoundError when it is a SQLite file not yet made (a
    report never creates an empty platform store by reading it)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise NotFoundError(f"no platform store in {settings.data_dir} (no "
                            f"{Path(url.removeprefix('sqlite:///')).name}); start the platform "
                            "there once, or give --data-dir / MCP_TRADING_DATA_DIR",
                            field="data_dir")
    return url


def report_dir(data_dir: Path, day: str) -> Path:
    return data_dir / "reports" / day


def write_files(data_dir: Path, report: Report) -> dict[str, Path]:
    """Write the three files (each to a temporary name, then renamed: never half-written)."""
    folder = report_dir(data_dir, report.day)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for ext, text in (("json", report.json_text()), ("html", report.html),
                      ("txt", report.text)):
        path = folder / f"{report.name}.{ext}"
        tmp = path.with_suffix(f".{ext}.partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        out[ext] = path
    return out


def check_key(day: str, name: str) -> None:
    try:
        valid = bool(_DAY.match(day)) and date.fromisoformat(day) is not None
    except ValueError:
        valid = False
    if not valid:
        raise InvalidError(f"date {day!r} is not a date; give YYYY-MM-DD", field="date")
    if not _NAME.match(name):
        raise InvalidError(f"report name {name!r} is not a report name (lower-case letters, "
                           "digits, '_'); GET /portfolio/reports lists them", field="name")


class ReportStore:
    """The `reports` table; the schema must be at head unless `migrate`."""

    def __init__(self, database: str | Engine, *, migrate: bool = False) -> None:
        self._own = isinstance(database, str)
        self._engine = create_store_engine(database) if isinstance(database, str) else database
        if migrate:
            upgrade(self._engine)
        else:
            check_schema(self._engine)

    def save(self, report: Report, created_ns: int) -> None:
        check_key(report.day, report.name)
        row = {"day": report.day, "name": report.name, "created_ns": created_ns,
               "summary": json.dumps(report.summary(), allow_nan=False),
               "body": zlib.compress(report.json_text().encode()),
               "html": zlib.compress(report.html.encode()),
               "text": zlib.compress(report.text.encode())}
        with self._engine.begin() as conn:
            conn.execute(delete(reports).where(reports.c.day == report.day,
                                               reports.c.name == report.name))
            conn.execute(insert(reports).values(**row))

    def list(self, *, day: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(reports.c.summary).order_by(reports.c.day.desc(), reports.c.name)
        if day is not None:
            query = query.where(reports.c.day == day)
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).scalars().all()
        return [json.loads(text) for text in rows]

    def get(self, day: str, name: str, fmt: str = "json") -> str:
        """The stored form ("json", "html" or "txt"); NotFoundError naming what exists."""
        check_key(day, name)
        column = {"json": reports.c.body, "html": reports.c.html, "txt": reports.c.text}.get(fmt)
        if column is None:
            raise InvalidError(f"format {fmt!r}; give one of {', '.join(FORMATS)}",
                               field="format")
        with self._engine.connect() as conn:
            blob = conn.execute(select(column).where(reports.c.day == day,
                                                     reports.c.name == name)).scalar()
        if blob is None:
            raise NotFoundError(f"no report {name!r} for {day}; GET /portfolio/reports lists "
                                "the stored ones, and `mcp-trading report "
                                f"trading|risk|performance --date {day}` makes one",
                                field="name")
        return zlib.decompress(blob).decode()

    def close(self) -> None:
        if self._own:
            self._engine.dispose()
