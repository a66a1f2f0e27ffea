"""deploy/systemd: one unit per service, started in dependency order, with no secret shipped."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mcp_trading.config import Settings
from mcp_trading.security.tokens import InsecureSecretError, check_jwt_secret
from mcp_trading.services import registry

SYSTEMD = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
TARGET = "trading-platform.target"
ENV_EXAMPLE = SYSTEMD / "platform.env.example"
PLACEHOLDER = "CHANGE-ME"

# the units cannot read the registry at run time: these tests hold them to it
SERVICES = registry.names()
# service -> the services it starts after (its spec's depends_on)
DEPENDS_ON = {s.name: set(s.depends_on) for s in registry.specs()}


def unit_name(service: str) -> str:
    return f"mcp-trading-{service}.service"


class _RepeatedKeys(dict[str, Any]):
    """Section options where a repeated key (After=, Wants=) adds lines, as systemd reads it."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and isinstance(self.get(key), list):
            self[key].extend(value)  # configparser joins the lines with "\n" afterwards
        else:
            super().__setitem__(key, value)


def parse_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       dict_type=_RepeatedKeys)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def names(unit: configparser.ConfigParser, section: str, key: str) -> set[str]:
    return set(unit.get(section, key, fallback="").split())


@pytest.fixture(scope="module")
def units() -> dict[str, configparser.ConfigParser]:
    return {service: parse_unit(SYSTEMD / unit_name(service)) for service in SERVICES}


def env_assignments(text: str) -> dict[str, str]:
    """KEY=value lines (not comments) with one level of quotes removed, as systemd reads them."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key.strip()] = value
    return found


def test_there_is_one_unit_per_service_and_nothing_else() -> None:
    on_disk = {p.name for p in SYSTEMD.glob("*.service")}
    assert on_disk == {unit_name(s) for s in SERVICES}


def test_each_unit_runs_its_own_service(units: dict[str, configparser.ConfigParser]) -> None:
    for service, unit in units.items():
        command = unit.get("Service", "ExecStart").split()
        assert command[-2:] == ["serve", service], unit_name(service)
        assert command[0] == "/opt/mcp-trading/.venv/bin/mcp-trading"


def test_the_strategies_unit_answers_to_the_runbooks_name(
        units: dict[str, configparser.ConfigParser]) -> None:
    # the runbook runs `systemctl restart trading-strategies`
    assert names(units["strategies"], "Install", "Alias") == {"trading-strategies.service"}


def test_the_optimizer_unit_answers_to_the_runbooks_name(
        units: dict[str, configparser.ConfigParser]) -> None:
    # the runbook runs `sudo systemctl restart ml-portfolio-optimizer`
    assert names(units["optimizer"], "Install", "Alias") == {"ml-portfolio-optimizer.service"}


def test_the_target_wants_every_unit() -> None:
    target = parse_unit(SYSTEMD / TARGET)
    assert names(target, "Unit", "Wants") == {unit_name(s) for s in SERVICES}
    assert "multi-user.target" in names(target, "Install", "WantedBy")


@pytest.mark.parametrize("service", SERVICES)
def test_each_unit_starts_after_what_it_depends_on(
        units: dict[str, configparser.ConfigParser], service: str) -> None:
    after = names(units[service], "Unit", "After")
    wants = names(units[service], "Unit", "Wants")
    needed = {unit_name(d) for d in DEPENDS_ON[service]}
    assert needed <= after, f"{unit_name(service)} is missing After={needed - after}"
    assert needed <= wants, "starting one unit alone must pull in what it needs"
    platform_units = {unit_name(s) for s in SERVICES}
    assert after & platform_units == needed, "After= names exactly the dependencies"


def test_the_dependency_order_follows_the_start_order() -> None:
    assert set(DEPENDS_ON) == set(SERVICES)
    for service, dependencies in DEPENDS_ON.items():
        assert all(SERVICES.index(d) < SERVICES.index(service) for d in dependencies)


def test_restarting_one_service_does_not_cascade(
        units: dict[str, configparser.ConfigParser]) -> None:
    platform_units = {unit_name(s) for s in SERVICES}
    for service, unit in units.items():
        for key in ("Requires", "BindsTo", "Requisite"):
            assert not names(unit, "Unit", key) & platform_units, f"{unit_name(service)}: {key}="
        assert names(unit, "Unit", "PartOf") == {TARGET}


def test_each_unit_restarts_on_failure_and_stops_gracefully(
        units: dict[str, configparser.ConfigParser]) -> None:
    for service, unit in units.items():
        s = unit["Service"]
        assert (s["Type"], s["Restart"], s["RestartSec"], s["KillSignal"]) == (
            "simple", "on-failure", "2", "SIGTERM"), unit_name(service)
        assert s["TimeoutStopSec"] == ("60" if service == "trading-engine" else "30")
        assert (s["User"], s["WorkingDirectory"], s["EnvironmentFile"]) == (
            "mcp-trading", "/opt/mcp-trading", "/etc/mcp-trading/platform.env")
        assert int(unit["Unit"]["StartLimitBurst"]) > 1
        assert int(unit["Unit"]["StartLimitIntervalSec"]) > 0


def test_each_unit_is_hardened_and_may_write_only_the_data_dir(
        units: dict[str, configparser.ConfigParser]) -> None:
    data_dir = env_assignments(ENV_EXAMPLE.read_text())["MCP_TRADING_DATA_DIR"]
    for service, unit in units.items():
        s = unit["Service"]
        assert (s["NoNewPrivileges"], s["ProtectSystem"], s["PrivateTmp"]) == (
            "yes", "strict", "yes"), unit_name(service)
        assert s["ReadWritePaths"].split() == [data_dir]


def test_each_unit_keeps_the_data_dir_to_its_user_and_group(
        units: dict[str, configparser.ConfigParser]) -> None:
    for service, unit in units.items():
        s = unit["Service"]
        assert s["Group"] == "mcp-trading", unit_name(service)
        # the platform keeps this umask (mcp_trading.platform.filemodes): 0750 / 0640
        assert (s["UMask"], s["StateDirectoryMode"]) == ("0027", "0750"), unit_name(service)


def test_the_env_example_sets_every_variable_for_production_distributed() -> None:
    env = env_assignments(ENV_EXAMPLE.read_text())
    assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "MCP_TRADING_PROFILE",
            "MCP_TRADING_DEPLOYMENT", "MCP_TRADING_SERVICE_URLS", "MCP_TRADING_DATA_DIR"} <= set(env)
    assert (env["MCP_TRADING_PROFILE"], env["MCP_TRADING_DEPLOYMENT"]) == (
        "production", "distributed")
    assert urlsplit(env["DATABASE_URL"]).scheme == "postgresql"
    assert urlsplit(env["REDIS_URL"]).scheme == "redis"
    assert isinstance(json.loads(env["MCP_TRADING_SERVICE_URLS"]), dict)


def test_the_env_example_loads_as_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env_assignments(ENV_EXAMPLE.read_text()).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # read the environment only, not a .env beside the tests
    assert settings.profile == "production"
    assert settings.data_dir == Path("/var/lib/mcp-trading")


def test_the_env_example_ships_only_placeholders_for_secrets() -> None:
    text = ENV_EXAMPLE.read_text()
    env = env_assignments(text)
    for key, value in env.items():
        if re.search(r"SECRET|PASSWORD|TOKEN|API_KEY", key):
            assert value == PLACEHOLDER, f"{key} must be the {PLACEHOLDER} placeholder"
    # every password in a URL, also in comments, is the placeholder
    for password in re.findall(r"://[^:/@\s]*:([^@\s]+)@", text):
        assert password == PLACEHOLDER
    # nothing that looks like a generated key (mixed case and digits, 20+ characters)
    for token in re.findall(r"[A-Za-z0-9_+/=-]{20,}", text):
        looks_random = (re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
                        and re.search(r"[0-9]", token))
        assert not looks_random, f"{token!r} looks like a real secret"


def test_the_placeholder_jwt_secret_cannot_go_live() -> None:
    secret = env_assignments(ENV_EXAMPLE.read_text())["JWT_SECRET"]
    with pytest.raises(InsecureSecretError):
        check_jwt_secret("production", secret)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    for path in [*SYSTEMD.glob("*.service"), SYSTEMD / TARGET]:
        # verify checks that ExecStart exists; the virtualenv is only there once installed
        text = path.read_text().replace("/opt/mcp-trading/.venv/bin/mcp-trading", "/bin/true")
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
