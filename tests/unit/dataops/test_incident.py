"""The breach response's step runner, the --since parser and the JWT step without rotation."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.dataops import incident
from mcp_trading.dataops.evidence import parse_since
from mcp_trading.platform.alert_center import EmergencyLog


def test_every_step_runs_and_each_outcome_is_logged_before_the_next(tmp_path: Path) -> None:
    log = EmergencyLog(tmp_path / "emergency.log")
    seen: list[int] = []

    def fails() -> str:
        raise RuntimeError("the store is away; retry with `keys revoke --all`")

    def second() -> str:
        seen.append(len(log.path.read_text().splitlines()))  # the first is logged already
        return "done"

    outcomes = incident.run_steps([("first", fails), ("second", second)], log,
                                  actor="operator:test", reason="drill")

    assert [(o.step, o.ok) for o in outcomes] == [("first", False), ("second", True)]
    assert "store is away" in outcomes[0].detail and seen == [1]
    entries = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("breach-first", "failed"), ("breach-second", "ok")]
    assert all(e["reason"] == "drill" and e["actor"] == "operator:test" for e in entries)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600),
                                               ("2d", 172_800), ("45", 45), ("1.5h", 5400)])
def test_since_takes_seconds_minutes_hours_and_days(text: str, seconds: float) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0h", "-1h", "1w", "h"])
def test_a_bad_since_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="90s, 30m, 1h or 2d"):
        parse_since(text)


def test_without_a_rotation_module_the_jwt_step_fails_saying_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> object:
        if name == "mcp_trading.security.rotation":
            raise ModuleNotFoundError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(RuntimeError, match="JWT rotation not available"):
        incident.rotate_jwt_now(Settings(data_dir=tmp_path))


def test_the_jwt_step_rotates_with_no_grace_and_names_no_secret(tmp_path: Path) -> None:
    from mcp_trading.security.principal import Principal, Role
    from mcp_trading.security.rotation import jwt_ring
    from mcp_trading.security.tokens import TokenIssuer

    settings = Settings(data_dir=tmp_path)
    verifier = TokenIssuer(ring=jwt_ring(settings))
    before = verifier.issue(Principal(Role.ADMIN, "key1", None, "ops"))
    assert verifier.verify(before) is not None

    detail = incident.rotate_jwt_now(settings)

    [fresh] = settings.secrets(force=True).jwt_keys  # the old key is gone, not in grace
    assert fresh.kid in detail and fresh.secret not in detail
    assert verifier.verify(before) is None  # refused at once
    assert verifier.verify(verifier.issue(Principal(Role.ADMIN, "key1", None, "ops")))
