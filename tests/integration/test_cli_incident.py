"""`mcp-trading incident breach` and `incident collect` on a stopped platform, as an operator
runs them (the running platform's breach is tests/e2e/test_incident.py)."""

from __future__ import annotations

import json
import stat
import tarfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.services.orders.service import find_order_view

runner = CliRunner()
JWT_SECRET = "incident-test-secret-" + "Zq8Wm3Rt6Yp1Ux4Ks7Vb0Nd2"
MEMBERS = {"status.json", "health.json", "settings.json", "connections.json", "journal.jsonl",
           "manifest.json", "logs/emergency.log"}


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "MCP_TRADING_DATABASE_URL", "MCP_TRADING_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MCP_TRADING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _key(role: str = "admin") -> tuple[str, str]:
    result = _cli("keys", "create", "--role", role, "--all-accounts", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    return created["id"], created["key"]


def _working_order(data_dir: Path) -> str:
    """A limit order far below the market, journaled, with the platform then closed."""
    plat = bootstrap(Settings(data_dir=data_dir))
    plat.open()
    try:
        kernel = plat.kernel_runtime.kernel
        kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(1000),
                              Decimal(1000), None, time.time_ns()))
        order = kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=1, side="buy",
                                                          type="limit", limit_price="50.00",
                                                          time_in_force="gtc"))
        plat.kernel_runtime.journal.flush()
        return order.id
    finally:
        plat.runtime.close()  # type: ignore[union-attr]


def _emergency(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "logs" / "emergency.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _tar_texts(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                for m in tar.getmembers()}


def test_breach_on_a_stopped_platform_runs_every_step_and_records_each(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    order_id = _working_order(data_dir)
    key_ids = [_key("admin")[0], _key("operator")[0]]

    result = _cli("incident", "breach", "--reason", "key seen on a paste site", "--json")

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert [s["step"] for s in answer["steps"]] == [
        "halt", "revoke-keys", "rotate-jwt", "collect-evidence", "alert"]
    assert answer["ok"] and all(s["ok"] for s in answer["steps"]), answer
    # halted, the working order cancelled, in the journal: the platform starts halted
    info = json.loads(_cli("journal", "info", "--json").stdout)
    assert info["platform_state"] == "halted"
    plat = bootstrap(Settings(data_dir=data_dir))
    plat.open()
    try:
        # the kernel's memory, or (closed, released once projected) the projections: as a read
        assert find_order_view(plat, order_id, None)["status"] == "canceled"  # type: ignore[arg-type]
    finally:
        plat.runtime.close()  # type: ignore[union-attr]
    listed = json.loads(_cli("keys", "list", "--json").stdout)
    assert {k["id"] for k in listed if not k["active"]} == set(key_ids)
    ring = Settings(data_dir=data_dir).secrets(force=True).jwt_keys
    assert [k.secret == JWT_SECRET for k in ring] == [False]  # a new key; the old one gone
    actions = [e["action"] for e in _emergency(data_dir)]
    assert "halt:halted" in actions  # the halt itself, as the online halt records it
    for step in ("halt", "revoke-keys", "rotate-jwt", "collect-evidence", "alert"):
        assert f"breach-{step}" in actions
    evidence = Path(answer["steps"][3]["detail"].split(" ")[0])
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o600
    assert set(_tar_texts(evidence)) >= MEMBERS
    # the operator gets back in locally
    assert _cli("keys", "create", "--role", "admin", "--all-accounts").exit_code == 0


def test_a_failing_step_is_recorded_and_the_others_still_run(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kept, _ = _key("trader")
    result = _cli("incident", "breach", "--reason", "drill", "--keys", "nosuchkey123", "--json")

    assert result.exit_code == 1, result.output
    steps = {s["step"]: s for s in json.loads(result.stdout)["steps"]}
    assert not steps["revoke-keys"]["ok"] and "nosuchkey123" in steps["revoke-keys"]["detail"]
    assert all(steps[s]["ok"] for s in ("halt", "rotate-jwt", "collect-evidence", "alert"))
    assert "revoke-keys: FAILED" in caplog.text  # the alert says which step failed
    [failed] = [e for e in _emergency(tmp_path / "var") if e["action"] == "breach-revoke-keys"]
    assert failed["outcome"] == "failed"
    assert [k["active"] for k in json.loads(_cli("keys", "list", "--json").stdout)] == [True]
    assert kept  # named keys only: the trader key was not among them


def test_collect_writes_one_private_tarball_without_a_secret_in_it(tmp_path: Path) -> None:
    _, plaintext = _key("admin")
    _working_order(tmp_path / "var")
    result = _cli("incident", "collect", "--since", "2h")

    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.name.startswith("incident-") and path.name.endswith(".tar.gz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    texts = _tar_texts(path)
    assert MEMBERS - {"logs/emergency.log"} <= set(texts)  # no emergency action yet: no log
    events = [json.loads(line) for line in texts["journal.jsonl"].splitlines()]
    assert "OrderAccepted" in {e["event"] for e in events}
    manifest = json.loads(texts["manifest.json"])
    assert {m["name"] for m in manifest["members"]} == set(texts) - {"manifest.json"}
    assert json.loads(texts["settings.json"])["jwt_secret"] != JWT_SECRET
    for text in texts.values():
        assert JWT_SECRET not in text and plaintext not in text
        assert plaintext.split("_", 2)[2] not in text


@pytest.mark.parametrize(("args", "says"), [
    (["incident", "collect", "--since", "soon"], "--since"),
    (["incident", "breach", "--reason", "  "], "--reason"),
    (["incident", "breach", "--reason", "x", "--keys", ","], "--keys"),
])
def test_bad_arguments_exit_2_naming_them(args: list[str], says: str) -> None:
    result = _cli(*args)
    assert result.exit_code == 2 and says in result.output, result.output
