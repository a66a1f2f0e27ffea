"""The service registry: cheap to import, every path loadable, and what cannot read it at run
time (typed port settings, scripts/_common.sh) held to it. The systemd units are checked
against it in test_deploy_units.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.services import registry
from mcp_trading.services.spec import ServiceSpec, TaskSpec, load

ROOT = Path(__file__).resolve().parents[2]


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_importing_the_registry_loads_no_framework() -> None:
    loaded = _imported_after("import mcp_trading.services.registry")
    assert not {"fastapi", "mcp", "sqlalchemy", "starlette", "pydantic"} & loaded
    assert not any(m.startswith("mcp_trading.platform") for m in loaded)


def test_settings_do_not_import_the_platform() -> None:
    loaded = _imported_after("import mcp_trading.config")
    assert not any(m.startswith(("mcp_trading.platform", "mcp_trading.processes",
                                 "mcp_trading.faces")) for m in loaded)


def test_the_platform_module_leaves_distributed_mode_unloaded() -> None:
    loaded = _imported_after("import mcp_trading.platform.platform")
    assert not any(m.startswith("mcp_trading.processes") for m in loaded)


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda s: s.name)
def test_every_import_path_of_a_spec_loads(spec: ServiceSpec) -> None:
    paths = [spec.rest, *spec.mcp, *(t.factory for t in spec.tasks)]
    if spec.health is not None:
        paths.append(spec.health)
    for path in paths:
        assert callable(load(path)), path


def test_start_order_respects_dependencies_and_there_is_one_engine() -> None:
    seen: set[str] = set()
    for spec in registry.specs():
        assert set(spec.depends_on) <= seen, spec.name
        seen.add(spec.name)
    assert [s.name for s in registry.specs() if s.distributed == "engine"] == ["trading-engine"]


def test_the_typed_port_settings_match_the_registry() -> None:
    fields = {name: f.default for name, f in Settings.model_fields.items()
              if name.startswith("port_")}
    assert fields == {s.port_setting: s.port for s in registry.specs()}
    settings = Settings()
    assert {s.name: settings.port(s.name) for s in registry.specs()} == {
        s.name: s.port for s in registry.specs()}


def test_the_scripts_port_list_matches_the_registry() -> None:
    text = (ROOT / "scripts" / "_common.sh").read_text()
    declared = {m[1]: (m[2], int(m[3])) for m in re.finditer(
        r'^(PORT_\w+)="\$\{(MCP_TRADING_PORT_\w+):-(\d+)\}"$', text, re.MULTILINE)}
    assert dict(declared.values()) == {
        s.port_env: s.port for s in registry.specs()}
    assert all(var == env.removeprefix("MCP_TRADING_") for var, (env, _) in declared.items())
    [all_ports] = re.findall(r'^ALL_PORTS="([^"]*)"$', text, re.MULTILINE)
    assert sorted(all_ports.split()) == sorted(f"${var}" for var in declared)


EXTRA = ServiceSpec(name="extra-thing", title="x", port=8123, rest="json:dumps",
                    depends_on=("trading-engine",))


def test_an_extra_services_port_is_its_default_or_its_environment_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with registry.registered(EXTRA):
        assert EXTRA.port_env == "MCP_TRADING_PORT_EXTRA_THING"
        assert Settings().port("extra-thing") == 8123
        monkeypatch.setenv("MCP_TRADING_PORT_EXTRA_THING", "9001")
        assert Settings().port("extra-thing") == 9001
        monkeypatch.setenv("MCP_TRADING_PORT_EXTRA_THING", "http")
        with pytest.raises(ValueError, match="MCP_TRADING_PORT_EXTRA_THING: 'http' is not a port"):
            Settings().port("extra-thing")
        assert Settings(service_urls={"extra-thing": "http://h:1"}).service_url(
            "extra-thing") == "http://h:1"
    with pytest.raises(ValueError, match="'extra-thing' is not known"):
        Settings().port("extra-thing")


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": "Bad_Name"}, "lower-case words"),
    ({"port": 70000}, "outside 0-65535"),
    ({"rest": "no-colon"}, "not an import path"),
    ({"tasks": (TaskSpec("t", "mod.only"),)}, "not an import path"),
    ({"writes": (("GET", "/x"),)}, "POST, PUT, PATCH or DELETE"),
    ({"engine_reads": ("/x(",)}, "forwarded read .* is not a regular expression"),
])
def test_a_bad_spec_is_refused_with_the_reason(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"name": "x", "title": "x", "port": 1, "rest": "m:f"}
    with pytest.raises(ValueError, match=message):
        ServiceSpec(**{**base, **fields})  # type: ignore[arg-type]


def test_registering_needs_known_dependencies_and_a_new_name() -> None:
    orphan = ServiceSpec(name="orphan", title="x", port=1, rest="m:f", depends_on=("nothing",))
    with pytest.raises(ValueError, match="depends on nothing"), registry.registered(orphan):
        pass
    twin = ServiceSpec(name="orders", title="x", port=1, rest="m:f")
    with pytest.raises(ValueError, match="already registered"), registry.registered(twin):
        pass
    assert registry.names()[-1] == "alerts"


def test_load_names_the_path_it_cannot_load() -> None:
    with pytest.raises(ImportError, match=r"mcp_trading\.nowhere:x: cannot be loaded"):
        load("mcp_trading.nowhere:x")


def test_tasks_in_engine_run_in_the_engines_process_in_distributed_mode() -> None:
    from types import SimpleNamespace

    from mcp_trading.platform.platform import Platform

    def tasks(role: str, service: str | None) -> set[str]:
        specs = registry.specs() if service is None else (registry.get(service),)
        me = SimpleNamespace(role=role, specs=specs)
        return {f"{s.name}:{t.name}" for s, t in Platform._declared_tasks(me)}  # type: ignore[arg-type]

    assert "strategies:instances" in tasks("embedded", None)
    assert "strategies:instances" in tasks("engine", "trading-engine")
    assert tasks("replica", "strategies") == {"strategies:backtests"}
    assert "market-data:bars-and-stream" not in tasks("engine", "trading-engine")
