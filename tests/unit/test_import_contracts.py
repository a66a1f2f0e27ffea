"""The layers, enforced: the import-linter contracts in pyproject (`[tool.importlinter]`) hold,
each of them can break, and what import-linter cannot say ("imports only ...") is checked here
with ast: the domain imports only the standard library; the kernel only that, the domain and
msgspec (its journal codec and snapshots are msgpack); strategies and analytics only that,
the domain and numpy."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import mcp_trading

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(mcp_trading.__file__).parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: package -> what it may import besides the standard library (itself included)
ONLY = {
    "mcp_trading.domain": ("mcp_trading.domain",),
    "mcp_trading.kernel": ("mcp_trading.kernel", "mcp_trading.domain", "msgspec"),
    "mcp_trading.strategy": ("mcp_trading.strategy", "mcp_trading.domain", "numpy"),
    "mcp_trading.analytics": ("mcp_trading.analytics", "mcp_trading.domain", "numpy"),
    # analytics (pure as well): evaluate.py measures out of sample with the one metrics module
    "mcp_trading.optimizer": ("mcp_trading.optimizer", "mcp_trading.domain",
                              "mcp_trading.analytics", "numpy", "scipy", "sklearn", "clarabel",
                              "cvxpy"),
}

#: contract id -> (file to write under the package copy, a line that breaks that contract)
VIOLATIONS = {
    "domain": ("domain/zz_violation.py", "import mcp_trading.kernel.kernel"),
    "kernel": ("kernel/zz_violation.py", "import mcp_trading.adapters.store"),
    "adapters": ("adapters/zz_violation.py", "import mcp_trading.platform.platform"),
    "services": ("services/orders/zz_violation.py", "import starlette.responses"),
    "strategy": ("strategy/zz_violation.py", "import mcp_trading.kernel.kernel"),
    "settings": ("config.py", "import mcp_trading.services.orders.service"),
    "analytics": ("analytics/zz_violation.py", "import mcp_trading.adapters.history"),
    "optimizer": ("optimizer/zz_violation.py", "import mcp_trading.adapters.history"),
}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extras (pip install -e '.[dev]')")
    env = {**os.environ, "COLUMNS": "400"}  # one contract per line, names unwrapped
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_contract_breaks_on_a_violating_module(tmp_path: Path) -> None:
    contracts = _contracts()
    assert {c["id"] for c in contracts} == set(VIOLATIONS), "give each contract a violation here"
    shutil.copytree(PACKAGE, tmp_path / "mcp_trading", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for path, line in VIOLATIONS.values():
        target = tmp_path / "mcp_trading" / path
        text = target.read_text() if target.exists() else ""
        target.write_text(f"{text}\n{line}\n")
    result = _lint_imports(tmp_path, pythonpath=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "zz_violation" in out, out  # the copy was analysed, not the installed package
    for contract in contracts:
        assert f"{contract['name']} BROKEN" in out, out
    assert f"0 kept, {len(contracts)} broken" in out, out


def _imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, nested and TYPE_CHECKING ones too."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1])
                yield node.lineno, f"{base}.{node.module}" if node.module else base
            else:
                yield node.lineno, node.module or ""


def foreign_imports(root: Path, package: str, allowed: tuple[str, ...]) -> list[str]:
    """Imports under `root` (the directory of `package`) of neither the stdlib nor `allowed`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        module = ".".join((package, *parts))
        for line, name in _imports(path, module):
            if name.split(".")[0] in sys.stdlib_module_names:
                continue
            if not any(name == a or name.startswith(f"{a}.") for a in allowed):
                found.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(ONLY))
def test_the_package_imports_only_what_its_layer_allows(package: str) -> None:
    root = PACKAGE / package.removeprefix("mcp_trading.")
    assert root.is_dir(), root
    assert foreign_imports(root, package, ONLY[package]) == []


def test_the_allow_list_check_reports_each_foreign_import(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    (domain / "sub").mkdir(parents=True)
    (domain / "__init__.py").write_text("import decimal\nfrom . import sub\n")
    (domain / "sub" / "__init__.py").write_text("")
    (domain / "sub" / "leaf.py").write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import msgspec\n"
        "from .. import other\n"              # pkg.domain.other: inside, allowed
        "from ...kernel import kernel\n"      # pkg.kernel: outside
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy import Engine\n"
        "def f() -> None:\n"
        "    import mcp_trading.platform\n")
    assert foreign_imports(domain, "pkg.domain", ("pkg.domain",)) == [
        "domain/sub/leaf.py:3 imports msgspec",
        "domain/sub/leaf.py:5 imports pkg.kernel",
        "domain/sub/leaf.py:7 imports sqlalchemy",
        "domain/sub/leaf.py:9 imports mcp_trading.platform",
    ]
