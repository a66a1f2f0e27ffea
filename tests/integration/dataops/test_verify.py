"""`mcp-trading verify` on real SQLite stores: green on a healthy (archived) store, and each
kind of damage named — a flipped byte in a segment, a gap in the journal, a position that
its fills do not add up to, cash that does not reconcile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from tests.integration.dataops.trading_days import day_ns, trade_days

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import (
    accounts,
    journal,
    positions,
    snapshot_segments,
    snapshots,
)
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive import archive, archive_dir

CLI = [sys.executable, "-m", "mcp_trading"]


def run_verify(data_dir: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([*CLI, "verify", "--json", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("verify") / "var"
    trade_days(data_dir, days=8)
    archive(Settings(data_dir=data_dir), day_ns("2024-01-06"), segment_records=40)
    return data_dir


@pytest.fixture
def copy(archived: Path, tmp_path: Path) -> Settings:
    import shutil

    shutil.copytree(archived, tmp_path / "var")
    return Settings(data_dir=tmp_path / "var")


def _execute(url: str, statement: Any) -> None:
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(statement)
    engine.dispose()


def test_a_healthy_archived_store_verifies(copy: Settings) -> None:
    code, body = run_verify(copy.data_dir)
    assert code == 0 and body["ok"] and body["failed"] == []
    names = [c["name"] for c in body["checks"]]
    assert names == ["journal-contiguity", "snapshot-segments", "archive-segments",
                     "projection-equals-replay", "positions-equal-fills", "cash-reconciled"]
    assert "after archived 1.." in body["checks"][0]["detail"]


def test_a_flipped_byte_in_a_segment_is_named(copy: Settings) -> None:
    info = segments.load_index(archive_dir(copy))[1]
    path = archive_dir(copy) / info.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, body = run_verify(copy.data_dir)
    assert code == 1 and "archive-segments" in body["failed"]
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "archive-segments")
    assert info.file in detail and "sha256" in detail


def test_a_gap_in_the_hot_journal_is_named(copy: Settings) -> None:
    url = copy.resolved_database_url
    engine = create_store_engine(url)
    with engine.connect() as conn:
        middle = conn.execute(select(func.max(journal.c.seq))).scalar_one() - 20
        seq = conn.execute(select(journal.c.seq).where(journal.c.seq >= middle)
                           .order_by(journal.c.seq).limit(1)).scalar_one()
    engine.dispose()
    _execute(url, delete(journal).where(journal.c.seq == seq))
    code, body = run_verify(copy.data_dir)
    assert code == 1 and "journal-contiguity" in body["failed"]
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "journal-contiguity")
    assert "jump" in detail


def test_a_snapshot_whose_duplicate_check_segment_is_gone_is_named(copy: Settings) -> None:
    url = copy.resolved_database_url
    engine = create_store_engine(url)
    with engine.connect() as conn:
        seq = conn.execute(select(func.max(snapshots.c.seq))).scalar_one()
    engine.dispose()
    _execute(url, insert(snapshot_segments).values(seq=seq, digest=b"\x07" * 16))
    code, body = run_verify(copy.data_dir)
    assert code == 1 and body["failed"] == ["snapshot-segments"]
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "snapshot-segments")
    assert "07" * 16 in detail and f"seq {seq}" in detail and "replay the journal" in detail


def test_a_position_its_fills_do_not_add_up_to_is_named(copy: Settings) -> None:
    _execute(copy.resolved_reports_url, update(positions).where(positions.c.symbol == "AAPL")
             .values(qty=positions.c.qty + "1"))  # Dec is text: "…1" is another quantity
    code, body = run_verify(copy.data_dir)
    assert code == 1 and {"positions-equal-fills", "projection-equals-replay"} <= set(
        body["failed"])
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "positions-equal-fills")
    assert "AAPL" in detail and "fills sum to" in detail


def test_cash_that_does_not_reconcile_is_named(copy: Settings) -> None:
    _execute(copy.resolved_reports_url, update(accounts).values(cash="1.00"))
    code, body = run_verify(copy.data_dir)
    assert code == 1 and "cash-reconciled" in body["failed"]
