"""How the CLI lays text out at 80 columns: flags shown bare, service lists never cut mid-item.

Typer 0.2x's rich help prints every option's type, flags included, so `--json <bool>` reads
as if it took a value although it is a plain switch. `plain_flags()` makes a flag's type
column empty; options that take a value keep theirs (`--data-dir <path>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.text import Text
from typer.core import TyperOption

__all__ = ["item_list", "plain_flags"]

_original = TyperOption.display_type_rich


def _display_type(self: TyperOption, ctx: Any) -> str | None:  # typer's own click Context
    if self.is_flag or self.count:  # takes no value: nothing to show after the name
        return None
    result: Any = _original(self, ctx)
    return None if result is None else str(result)


def plain_flags() -> None:
    """Show flags without a type in every command's help (idempotent)."""
    TyperOption.display_type_rich = _display_type  # type: ignore[method-assign]


def item_list(heading: str, items: Iterable[str], footer: str = "") -> RenderableType:
    """`heading` then the items in columns, each whole ("market-data :8001" never split
    across lines as one long joined line is at 80 columns)."""
    cells = [Text(item, no_wrap=True) for item in items]
    parts: list[RenderableType] = [Text.from_markup(heading), Columns(cells, padding=(0, 3))]
    if footer:
        parts.append(Text(footer))
    return Group(*parts)
