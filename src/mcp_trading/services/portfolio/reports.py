"""The stored end-of-day reports, as the portfolio service serves them (framework-free).

    list(principal, day=None)            summaries, newest day first
    get(principal, day, name, fmt=None)  (text, media type); `name` may carry the format as
                                         an extension (daily_trading.html), else `fmt`
                                         (json, html, txt; default json)

Reports cover every account, so they need a viewer that is not bound to one account.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any

from mcp_trading.domain.errors import ForbiddenError, InvalidError
from mcp_trading.reports.store import FORMATS, ReportStore
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role

__all__ = ["EOD_ORDER", "MEDIA_TYPES", "ReportsService"]

#: the reports the EOD procedure writes, in the order it writes (and a briefing reads) them
EOD_ORDER = ("daily_trading", "daily_risk", "performance_summary")
MEDIA_TYPES = {"json": "application/json", "html": "text/html; charset=utf-8",
               "txt": "text/plain; charset=utf-8"}


class ReportsService:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._store: ReportStore | None = None
        self._lock = threading.Lock()

    def _open(self) -> ReportStore:
        with self._lock:
            if self._store is None:
                self._store = ReportStore(self._url)
            return self._store

    @staticmethod
    def _check(principal: Principal | None) -> None:
        caller = require(principal, Role.VIEWER)
        if caller.account_id is not None:
            raise ForbiddenError("the reports cover every account; this key is bound to "
                                 f"account {caller.account_id!r} — use a key with "
                                 "--all-accounts")

    def list(self, principal: Principal | None, day: str | None = None) -> dict[str, Any]:
        self._check(principal)
        return {"reports": self._open().list(day=day)}

    def get(self, principal: Principal | None, day: str, name: str,
            fmt: str | None = None) -> tuple[str, str]:
        self._check(principal)
        stem, dot, ext = name.rpartition(".")
        if dot and ext in FORMATS:
            if fmt is not None and fmt != ext:
                raise InvalidError(f"{name!r} names the {ext} form but format={fmt!r}; give "
                                   "one of them", field="format")
            name, fmt = stem, ext
        fmt = fmt or "json"
        return self._open().get(day, name, fmt), MEDIA_TYPES.get(fmt, "application/json")

    def newest_day(self, principal: Principal | None
                   ) -> tuple[str, builtins.list[tuple[str, str]]] | None:
        """The newest stored day and the text form of each of its reports, in EOD order
        (others after, by name); None when no report is stored."""
        listed = self.list(principal)["reports"]
        if not listed:
            return None
        day = str(listed[0]["date"])
        names = sorted({str(r["name"]) for r in listed if r["date"] == day},
                       key=lambda n: (EOD_ORDER.index(n) if n in EOD_ORDER else len(EOD_ORDER),
                                      n))
        return day, [(name, self.get(principal, day, name, "txt")[0]) for name in names]

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
