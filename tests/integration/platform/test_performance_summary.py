"""The performance summary over a hand-built journal in a real store (SQLite, through the
platform's own journal adapter and migrations) and real bars in the history store: every
return checked against a hand computation (day, month to date, year to date, inception, the
totals' time-weighted return across an account opened later), the close snapshot preferred
to a later manual one, the benchmark's buy-and-hold and beta, the JSON schema, an empty
history, a missing benchmark, bad --date / --since / --account, the files, the stored row
and the portfolio route, and the runbook's root script with no argument."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import numpy as np
import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.history import BarColumns
from mcp_trading.adapters.history.factory import open_history_store
from mcp_trading.adapters.store.schema import journal
from mcp_trading.adapters.store.sql import SqlJournalStore
from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.domain.events import AccountOpened, EquitySnapshotted, Event
from mcp_trading.domain.models import SlippageModel
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.state import KernelState
from mcp_trading.reports.performance import build_performance_report, parse_since
from mcp_trading.reports.schemas import SCHEMAS
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.portfolio.reports import ReportsService

NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parents[3]
DAY = date(2026, 3, 3)
#: alpha: opened 2025-12-29 with 100,000; beta: opened 2026-02-27 with 50,000
ALPHA = [("2025-12-30", "101000"), ("2025-12-31", "100000"), ("2026-01-02", "102000"),
         ("2026-02-27", "99000"), ("2026-03-02", "100980"), ("2026-03-03", "103000")]
BETA = [("2026-02-27", "50500"), ("2026-03-02", "49490")]
SPY = {"2025-12-29": 500.0, "2025-12-30": 505.0, "2025-12-31": 500.0, "2026-01-02": 510.0,
       "2026-02-27": 495.0, "2026-03-02": 500.0, "2026-03-03": 520.0}


def _ns(day: str, hour: int, minute: int = 0) -> int:
    d = date.fromisoformat(day)
    return int(datetime(d.year, d.month, d.day, hour, minute, tzinfo=NY).timestamp()) * 10**9


def _snap(account: str, day: str, equity: str, reason: str = "close", hour: int = 16,
          stock: str = "0") -> EquitySnapshotted:
    positions = ((("SPY", Decimal(10), Decimal(stock) / 10),) if stock != "0" else ())
    return EquitySnapshotted(account, day, Decimal(equity), Decimal(equity) - Decimal(stock),
                             positions, reason, "test", _ns(day, hour))


def _journal(settings: Settings, events: list[Event]) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlJournalStore(settings.resolved_database_url, migrate=True)
    try:
        store.append([codec.record(seq, e) for seq, e in enumerate(events, start=1)])
    finally:
        store.close()


def _bars(settings: Settings, symbol: str, closes: dict[str, float], source: str = "csv") -> None:
    ts = np.array([_ns(d, 0) for d in sorted(closes)], dtype=np.int64)
    c = np.array([closes[d] for d in sorted(closes)])
    store = open_history_store(settings.resolved_history_url)
    try:
        with store.writer() as writer:
            writer.add(symbol, source, "1Day", BarColumns(ts, c, c, c, c, np.full(c.size, 1e6),
                                                          np.full(c.size, np.nan)))
    finally:
        store.close()


def _events() -> list[Event]:
    events: list[Event] = [
        AccountOpened("alpha", "USD", Decimal(100_000), False, _ns("2025-12-29", 9)),
        AccountOpened("_selftest", "USD", Decimal(1), False, _ns("2025-12-29", 9), True)]
    events += [_snap("alpha", d, e, stock="50000" if d >= "2026-03-02" else "0")
               for d, e in ALPHA]
    # a manual valuation after the close does not replace the close
    events.append(_snap("alpha", "2025-12-31", "55555", reason="manual", hour=18))
    events.append(_snap("alpha", "2026-03-03", "77777", reason="manual", hour=11))
    events.append(AccountOpened("beta", "USD", Decimal(50_000), False, _ns("2026-02-27", 10)))
    events += [_snap("beta", d, e) for d, e in BETA]
    return sorted(events, key=lambda e: e.ts)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("perf"))
    _journal(s, _events())
    _bars(s, "SPY", SPY)
    return s


@pytest.fixture(scope="module")
def doc(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = build_performance_report(settings, DAY, today=DAY + timedelta(1)
                                                        ).document
    return document


def _periods(book: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["period"]: p for p in book["periods"]}


def test_an_accounts_returns_are_its_equity_ratios(doc: dict[str, Any]) -> None:
    jsonschema.validate(doc, SCHEMAS["performance_summary"])
    alpha = next(a for a in doc["accounts"] if a["account_id"] == "alpha")
    assert [a["account_id"] for a in doc["accounts"]] == ["alpha", "beta"]  # no "_selftest"
    assert alpha["inception"] == {"date": "2025-12-29", "equity": "100000.00"}
    assert alpha["as_of"] == "2026-03-03" and alpha["equity"] == "103000.00"
    assert alpha["source"] == "close"  # not the 11:00 manual one
    p = _periods(alpha)
    assert p["day"]["return"] == pytest.approx(103000 / 100980 - 1, rel=1e-9)
    assert p["day"]["pnl"] == "2020.00" and p["day"]["base_day"] == "2026-03-02"
    assert p["mtd"]["return"] == pytest.approx(103000 / 99000 - 1, rel=1e-9)
    assert p["mtd"]["base_day"] == "2026-02-27" and p["mtd"]["days"] == 2
    # the base of the year is 2025-12-31's close (100,000), not its later manual 55,555
    assert p["ytd"]["return"] == pytest.approx(0.03, rel=1e-9)
    assert p["ytd"]["start_equity"] == "100000.00"
    assert p["inception"]["return"] == pytest.approx(0.03, rel=1e-9)
    assert p["inception"]["days"] == 6
    m = alpha["metrics"]
    assert m["total_return"] == pytest.approx(0.03, rel=1e-9)
    assert m["best_day"] == pytest.approx(103000 / 100980 - 1, rel=1e-9)  # 03-03
    assert m["worst_day"] == pytest.approx(99000 / 102000 - 1, rel=1e-9)
    assert m["max_drawdown"] == pytest.approx(99000 / 102000 - 1, rel=1e-9)
    assert m["winning_days"] == pytest.approx(4 / 6)
    assert m["exposure_time"] == pytest.approx(2 / 6)  # a position from 03-02 on


def test_the_totals_count_a_later_account_as_money_put_in(doc: dict[str, Any]) -> None:
    beta = _periods(next(a for a in doc["accounts"] if a["account_id"] == "beta"))
    assert beta["day"]["return"] is None  # no point on 03-03 (a past day: no fold)
    assert beta["mtd"]["return"] == pytest.approx(49490 / 50500 - 1, rel=1e-9)
    assert beta["inception"]["return"] == pytest.approx(49490 / 50000 - 1, rel=1e-9)
    total = _periods(doc["totals"])
    assert doc["totals"]["equity"] == "152490.00"  # 103,000 + beta's last 49,490
    assert total["day"]["return"] == pytest.approx(152490 / 150470 - 1, rel=1e-9)
    assert total["mtd"]["return"] == pytest.approx(152490 / 149500 - 1, rel=1e-9)
    # 02-27: (149,500 - 50,000 joining) / 102,000; then 152,490 / 149,500 = 1.02
    assert total["ytd"]["return"] == pytest.approx(0.995 * 1.02 - 1, rel=1e-9)
    # 1.01 x 100,000 / 101,000 = 1: inception's chain is the year's
    assert total["inception"]["return"] == pytest.approx(0.995 * 1.02 - 1, rel=1e-9)
    assert doc["series"]["of"] == "total" and doc["series"]["dates"][0] == "2025-12-30"
    assert doc["series"]["pnl"][3] == "-2500.00"  # 149,500 - 50,000 - 102,000
    assert doc["series"]["growth"][-1] == f"{100000 * 0.995 * 1.02:.2f}"
    assert doc["series"]["equity"][-1] == "152490.00"
    # alpha's 50,000 of stock on 03-02 and 03-03, as a share of the totals' equity those days
    assert doc["totals"]["metrics"]["exposure_average"] == pytest.approx(
        (50000 / 150470 + 50000 / 152490) / 6, rel=1e-9)


def test_the_benchmark_is_buy_and_hold_over_the_same_dates(doc: dict[str, Any]) -> None:
    bench = doc["benchmark"]
    assert bench["symbol"] == "SPY" and bench["available"] and bench["source"] == "csv"
    assert bench["beta"] is None and bench["common_days"] == 6  # fewer than 20: no beta
    alpha = _periods(doc["accounts"][0])
    assert alpha["inception"]["benchmark_return"] == pytest.approx(520 / 500 - 1, rel=1e-9)
    assert alpha["inception"]["excess_return"] == pytest.approx(0.03 - 0.04, rel=1e-9)
    assert alpha["mtd"]["benchmark_return"] == pytest.approx(520 / 495 - 1, rel=1e-9)
    assert alpha["day"]["benchmark_return"] == pytest.approx(520 / 500 - 1, rel=1e-9)
    series = doc["series"]
    assert series["benchmark_equity"][-1] == pytest.approx(100000 * 520 / 500, rel=1e-9)


def test_the_since_window_and_its_period(settings: Settings) -> None:
    since = parse_since("2026-01-01", until=DAY)
    doc = build_performance_report(settings, DAY, since=since, account="alpha").document
    jsonschema.validate(doc, SCHEMAS["performance_summary"])
    (alpha,) = doc["accounts"]
    assert _periods(alpha)["since"]["return"] == pytest.approx(0.03, rel=1e-9)
    assert alpha["metrics"]["start"] == "2026-01-02" and alpha["metrics"]["returns"] == 4
    assert doc["series"]["dates"] == ["2026-01-02", "2026-02-27", "2026-03-02", "2026-03-03"]
    assert parse_since("7d", until=DAY) == date(2026, 2, 24)
    assert parse_since("2m", until=DAY) == date(2026, 1, 3)


def test_a_beta_of_two_from_twenty_five_common_days(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    days = [(date(2026, 1, 5) + timedelta(i)).isoformat() for i in range(40)]
    rng = np.random.default_rng(7)
    closes = dict(zip(days, 400 * np.cumprod(1 + rng.normal(0, 0.01, len(days))), strict=True))
    equity, events = 100_000.0, [AccountOpened("a", "USD", Decimal(100_000), False,
                                               _ns(days[0], 9))]
    prev = days[0]
    for d in days[1:26]:
        equity *= 1 + 2 * (closes[d] / closes[prev] - 1)
        events.append(_snap("a", d, f"{equity:.6f}"))
        prev = d
    _journal(s, events)
    _bars(s, "QQQ", closes)
    doc = build_performance_report(s, date.fromisoformat(days[30]), benchmark="qqq").document
    assert doc["benchmark"]["common_days"] == 25
    assert doc["benchmark"]["beta"] == pytest.approx(2.0, rel=1e-6)
    assert doc["benchmark"]["correlation"] == pytest.approx(1.0, rel=1e-6)
    assert any(f"no snapshot on {days[30]} of a (last {days[25]})" in n for n in doc["notes"])


def test_empty_history_and_no_benchmark_say_so(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    _journal(s, [AccountOpened("paper", "USD", Decimal(100_000), False, _ns("2026-03-02", 9))])
    _bars(s, "SPY", SPY, source="simulator")  # simulated bars are not a benchmark
    report = build_performance_report(s, DAY, today=DAY + timedelta(1))
    doc = report.document
    jsonschema.validate(doc, SCHEMAS["performance_summary"])
    assert doc["activity"] is False and "no equity snapshot yet" in doc["summary"]
    assert doc["benchmark"]["available"] is False
    assert "no real daily history of SPY or AAPL" in doc["benchmark"]["reason"]
    assert "no equity snapshot yet" in report.text and "<svg" not in report.html
    out = CliRunner().invoke(app, ["report", "performance", "--date", DAY.isoformat(),
                                   "--data-dir", str(tmp_path)])
    assert out.exit_code == 0 and "no equity snapshot yet" in " ".join(out.stdout.split())
    schema = CliRunner().invoke(app, ["report", "schema", "performance_summary"])
    assert schema.exit_code == 0 and json.loads(schema.stdout) == SCHEMAS["performance_summary"]


def test_today_without_a_snapshot_is_valued_from_the_journal(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    today = datetime.now(NY).date()
    _journal(s, [AccountOpened("paper", "USD", Decimal(100_000), False,
                               _ns((today - timedelta(3)).isoformat(), 9))])
    doc = build_performance_report(s, today).document
    (paper,) = doc["accounts"]
    assert paper["source"] == "journal_fold" and paper["equity"] == "100000.00"
    assert _periods(paper)["day"]["return"] == 0.0
    assert any("no close snapshot for" in n for n in doc["notes"])


def test_an_archived_opening_falls_back_to_the_kernel_state(tmp_path: Path) -> None:
    """The journal up to the kernel snapshot archived away: no AccountOpened left, the
    inception is the snapshot's starting cash, dated at the first equity snapshot."""
    s = Settings(data_dir=tmp_path)
    opened = AccountOpened("paper", "USD", Decimal(80_000), False, _ns("2026-03-02", 9))
    state = KernelState(default_instruments(), SlippageModel())
    state.apply(1, opened)
    _journal(s, [opened])
    store = SqlJournalStore(s.resolved_database_url)
    try:
        store.save_snapshot(snapshot_codec.dump(state))
        store.append([codec.record(2, _snap("paper", "2026-03-02", "80800")),
                      codec.record(3, _snap("paper", "2026-03-03", "81608"))])
        with store.engine.begin() as conn:  # what `mcp-trading archive` does to the journal
            conn.execute(delete(journal).where(journal.c.seq <= 1))
    finally:
        store.close()
    doc = build_performance_report(s, DAY, today=DAY + timedelta(1)).document
    (paper,) = doc["accounts"]
    assert paper["inception"] == {"date": "2026-03-02", "equity": "80000.00"}
    p = _periods(paper)
    assert p["inception"]["return"] == pytest.approx(81608 / 80000 - 1, rel=1e-9)
    assert p["day"]["return"] == pytest.approx(0.01, rel=1e-9)
    assert any("no longer in the journal" in n for n in doc["notes"])


def test_cli_files_row_route_and_bad_input(settings: Settings) -> None:
    runner = CliRunner()
    data = str(settings.data_dir)
    out = runner.invoke(app, ["report", "performance", "--date", DAY.isoformat(), "--json",
                              "--data-dir", data])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["report"] == "performance_summary"
    folder = settings.data_dir / "reports" / DAY.isoformat()
    assert {p.name for p in folder.glob("performance_summary.*")} == {
        "performance_summary.json", "performance_summary.html", "performance_summary.txt"}
    page = runner.invoke(app, ["report", "performance", "--date", DAY.isoformat(), "--html",
                               "--since", "30d", "--data-dir", data])
    assert page.exit_code == 0 and page.stdout.strip() == str(folder / "performance_summary.html")
    own = settings.data_dir.parent / "elsewhere" / "perf.html"
    to_file = runner.invoke(app, ["report", "performance", "--date", DAY.isoformat(), "--html",
                                  str(own), "--data-dir", data])
    assert to_file.exit_code == 0 and to_file.stdout.strip() == str(own)
    assert 'class="chart pnl"' in own.read_text()
    text = runner.invoke(app, ["report", "performance", "--date", DAY.isoformat(),
                               "--data-dir", data])
    assert text.exit_code == 0 and "3.00%" in text.stdout and "alpha" in text.stdout
    assert "no snapshot on 2026-03-03 of beta (last 2026-03-02)" in text.stdout.replace("\n", " ")
    for args, code, words in ((["--date", "2026-02-30"], 2, "not a date"),
                              (["--since", "soon"], 2, "since is 'soon'"),
                              (["--since", "2027-01-01"], 2, "after the report's day"),
                              (["--benchmark", "S P Y"], 2, "is not a symbol"),
                              (["--account", "nobody"], 1, "no account 'nobody'")):
        bad = runner.invoke(app, ["report", "performance", "--date", DAY.isoformat(), *args,
                                  "--data-dir", data])
        assert bad.exit_code == code and words in bad.output, (args, bad.output)
    service = ReportsService(settings.resolved_database_url)
    try:
        viewer = Principal(Role.VIEWER, "k1", None, "viewer")
        listed = service.list(viewer, day=DAY.isoformat())["reports"]
        assert [r["name"] for r in listed] == ["performance_summary"]
        html, media = service.get(viewer, DAY.isoformat(), "performance_summary.html")
        assert media.startswith("text/html") and 'class="chart equity"' in html
    finally:
        service.close()


def test_the_runbook_script_runs_with_no_argument(settings: Settings) -> None:
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run([sys.executable, "reports/performance_summary.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Performance summary" in done.stdout
    bad = subprocess.run([sys.executable, "reports/performance_summary.py", "--date=tomorrow"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert bad.returncode == 2 and "not a date" in bad.stderr
