"""What the reports' renderings share: a report is a list of sections (title, header, rows)
rendered as rich tables (the terminal and the .txt file) and as one self-contained HTML page
(`analytics.report.html_page`: inline CSS and SVG, no script, no CDN) with its charts, tables,
definitions and notes. Each report's renderer (render_trading, render_risk,
render_performance) only says what its sections and charts are.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from mcp_trading.analytics.report import html_page, html_table

__all__ = ["Section", "local_time", "page_html", "pct", "section_tables", "tables_text"]

Section = tuple[str, Sequence[str], list[list[str]]]


def local_time(ts_ns: int | None, tz: str) -> str:
    """HH:MM:SS of a ns timestamp in the report's time zone ("-" for None)."""
    if ts_ns is None:
        return "-"
    return datetime.fromtimestamp(ts_ns / 1e9, ZoneInfo(tz)).strftime("%H:%M:%S")


def pct(x: float | None, places: int = 2) -> str:
    """A fraction as a percentage ("-" for None)."""
    return "-" if x is None else f"{x * 100:.{places}f}%"


def section_tables(sections: Sequence[Section]) -> list[Table]:
    """One rich table per section that has rows (empty sections are left out)."""
    tables = []
    for title, header, rows in sections:
        if not rows:
            continue
        table = Table(*header, title=title)
        for row in rows:
            table.add_row(*row)
        tables.append(table)
    return tables


def tables_text(head: str, tables: Sequence[Table], notes: Sequence[str], *,
                width: int = 140) -> str:
    """The terminal rendering as plain text (what the .txt file holds)."""
    console = Console(record=True, width=width, color_system=None, force_terminal=False,
                      file=io.StringIO())
    console.print(head)
    for table in tables:
        console.print(table)
    for note in notes:
        console.print(f"note: {note}")
    return console.export_text()


def page_html(title: str, summary: str, *, charts: Sequence[str], sections: Sequence[Section],
              definitions: Mapping[str, str], notes: Sequence[str]) -> str:
    """One self-contained page: title, summary, the charts, the non-empty tables (ids t0,
    t1, ... by section position), the definitions and the notes."""
    body = [f"<h1>{escape(title)}</h1>", f'<p class="summary">{escape(summary)}</p>', *charts]
    for i, (heading, header, rows) in enumerate(sections):
        if rows:
            body += [f"<h2>{escape(heading)}</h2>",
                     html_table(f"t{i}", header, rows, numeric_from=1)]
    body.append("<h2>Definitions</h2><ul>" + "".join(
        f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in definitions.items()) + "</ul>")
    body += [f'<p class="note">{escape(n)}</p>' for n in notes]
    return html_page(title, body)
