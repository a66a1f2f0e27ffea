"""The CLI at 80 columns: flags shown bare (`--json`, never `--json <bool>`), lists and
tables whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.cli.display import item_list
from mcp_trading.services import registry


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    subcommands: dict[str, Any] = getattr(command, "commands", {})  # a group (typer's own click)
    for name, sub in sorted(subcommands.items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_walk_finds_the_commands_with_flags() -> None:
    assert {("status",), ("settings",), ("keys", "list"), ("health",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mcp-trading")
def test_flags_show_no_type_and_lines_fit_80_columns(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert "<bool>" not in text
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_an_option_that_takes_a_value_keeps_its_type() -> None:
    text = _help(("status",))
    assert "<path>" in text
    json_line = next(line for line in text.splitlines() if "--json" in line)
    assert "Print JSON for machines." in json_line and "<" not in json_line


def test_platform_up_lists_each_service_whole_at_80_columns() -> None:
    items = [f"{spec.name} :{spec.port}" for spec in registry.specs()]
    console = Console(width=80, record=True)
    console.print(item_list("platform up (pid 1):", items, "(Ctrl-C stops)"))
    lines = console.export_text().splitlines()
    assert lines[0] == "platform up (pid 1):" and lines[-1] == "(Ctrl-C stops)"
    assert all(len(line) <= 80 for line in lines)
    shown = [cell for line in lines[1:-1] for cell in line.split("   ") if cell.strip()]
    assert sorted(cell.strip() for cell in shown) == sorted(items)  # none split, none cut


def test_settings_and_keys_tables_cut_nothing_at_80_columns(tmp_path: Path) -> None:
    env = {"COLUMNS": "80", "TERM": "dumb", "MCP_TRADING_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    made = runner.invoke(app, ["keys", "create", "--role", "trader", "--account", "paper",
                               "--name", "a-rather-long-bot-name"], env=env)
    assert made.exit_code == 0, made.output
    for verb in (["settings"], ["keys", "list"]):
        result = runner.invoke(app, verb, env=env)
        assert result.exit_code == 0, result.output
        assert "…" not in result.output, result.output
        assert all(len(line) <= 80 for line in result.output.splitlines())
    listed = runner.invoke(app, ["keys", "list"], env=env).output
    assert "trader" in listed and "paper" in listed and "active" in listed
