"""The shape of the code under src/, where ruff cannot count it: no file over 400 lines and no
function over 60 lines (`end_lineno - lineno + 1` of its `def`, decorators not counted; a nested
function is measured on its own as well as inside the one that holds it). Migrations are
generated and left out. Ruff's C901 and PLR0915 (pyproject) bound complexity and statements."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _sources(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.py")) if "migrations" not in p.relative_to(root).parts]


def long_files(root: Path) -> list[str]:
    found = []
    for path in _sources(root):
        lines = len(path.read_text().splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{path.relative_to(root)}: {lines} lines (at most {MAX_FILE_LINES})")
    return found


def long_functions(root: Path) -> list[str]:
    found = []
    for path in _sources(root):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {lines} lines "
                                 f"(at most {MAX_FUNCTION_LINES})")
    return found


def test_the_sources_are_found() -> None:
    assert len(_sources(SRC)) > 100


def test_no_source_file_is_over_400_lines() -> None:
    found = long_files(SRC)
    assert not found, "split these files:\n" + "\n".join(found)


def test_no_function_is_over_60_lines() -> None:
    found = long_functions(SRC)
    assert not found, "split these functions:\n" + "\n".join(found)


def test_the_shape_checks_report_what_is_too_long(tmp_path: Path) -> None:
    body = "\n".join(f"x{i} = {i}" for i in range(59))
    indented = body.replace("x", "    x")
    (tmp_path / "fits.py").write_text(f"def fits():\n{indented}\n")  # 60 lines
    (tmp_path / "long.py").write_text(  # outer: lines 2-122, inner: 62-122; 422 lines in all
        f"@staticmethod\ndef outer():\n{indented}\n    async def inner():\n"
        f"{body.replace('x', '        x')}\n        pass\n" + "\n" * 300)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "v1.py").write_text("\n" * 500)
    assert long_functions(tmp_path) == [
        "long.py:2 outer: 121 lines (at most 60)",
        "long.py:62 inner: 61 lines (at most 60)",
    ]
    assert long_files(tmp_path) == ["long.py: 422 lines (at most 400)"]
