"""Backups hold the archived journal: archive, back up, restore into a fresh data directory,
and the whole journal (segments + hot) is the original one and `mcp-trading verify` is
green; a flipped byte in a backed-up segment makes restore refuse with nothing touched; a
restore over a data directory keeps its archive in the rollback copy."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.integration.dataops.trading_days import day_ns, trade_days

from mcp_trading.adapters.store import open_store
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive import archive, archive_dir
from mcp_trading.dataops.backup import run_backup
from mcp_trading.dataops.manifest import BackupInvalidError
from mcp_trading.dataops.restore import run_restore

BEFORE = day_ns("2024-01-07")


def _whole_journal(settings: Settings) -> list[Any]:
    hot = open_store(settings.resolved_database_url)
    try:
        return list(segments.full_journal(archive_dir(settings), hot))
    finally:
        hot.close()


def _verify_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(settings.data_dir)}
    env.pop("DATABASE_URL", None)
    if settings.database_url is not None:
        env["DATABASE_URL"] = settings.database_url
    return subprocess.run([sys.executable, "-m", "mcp_trading", "verify", "--json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def _tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file() and "backups" not in p.parts}


@pytest.fixture
def archived(tmp_path: Path) -> tuple[Settings, list[Any]]:
    trade_days(tmp_path / "var", days=10)
    settings = Settings(data_dir=tmp_path / "var", backup_dir=tmp_path / "backups")
    report = archive(settings, BEFORE, segment_records=30)
    assert len(report.journal["segments"]) > 1
    return settings, _whole_journal(settings)


def test_a_backup_holds_the_segments_and_restores_them_into_a_fresh_data_dir(
        archived: tuple[Settings, list[Any]], tmp_path: Path) -> None:
    settings, whole = archived
    manifest = run_backup(settings)
    assert manifest["status"] == "verified", manifest["verification"]
    infos = segments.load_index(archive_dir(settings))
    copied = {e["name"] for e in manifest["files"] if e["kind"] == "archive"}
    assert copied == {i.file for i in infos} | {segments.INDEX_NAME, "SHA256SUMS"}
    assert manifest["archive"] == {"segments": len(infos), "first_seq": 1,
                                   "last_seq": infos[-1].last_seq}
    names = {c["name"]: c["ok"] for c in manifest["verification"]["checks"]}
    assert names["archive-segments"] and names["archive-continues"]

    fresh = Settings(data_dir=tmp_path / "fresh", backup_dir=tmp_path / "backups")
    report = run_restore(fresh, manifest["path"])
    assert report["ok"], report["checks"]
    assert _whole_journal(fresh) == whole  # segments + hot journal: the original journal
    result = _verify_cli(fresh)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["archive-segments"]["ok"] and f"seqs 1..{infos[-1].last_seq}" in \
        checks["archive-segments"]["detail"]


def test_a_flipped_byte_in_a_backed_up_segment_is_refused_and_nothing_is_touched(
        archived: tuple[Settings, list[Any]]) -> None:
    settings, whole = archived
    manifest = run_backup(settings)
    assert manifest["status"] == "verified", manifest["verification"]
    entry = next(e for e in manifest["files"] if e["role"] == "archive-segment")
    segment = Path(manifest["path"]) / entry["path"]
    good = segment.read_bytes()
    segment.write_bytes(good[:20] + bytes([good[20] ^ 0x01]) + good[21:])
    before = _tree(settings.data_dir)
    with pytest.raises(BackupInvalidError, match=entry["name"] + ": sha256 differs"):
        run_restore(settings, "latest")
    assert _tree(settings.data_dir) == before

    segment.write_bytes(good)  # repaired: the restore swaps and keeps the old archive
    report = run_restore(settings, "latest")
    assert report["ok"], report["checks"]
    rollback = Path(report["rollback"]["directory"])
    assert (rollback / "archive" / segments.INDEX_NAME).is_file()
    assert _whole_journal(settings) == whole


def test_a_backup_of_a_store_never_archived_has_no_archive_files(tmp_path: Path) -> None:
    trade_days(tmp_path / "var", days=2)
    settings = Settings(data_dir=tmp_path / "var")
    manifest = run_backup(settings)
    assert manifest["status"] == "verified", manifest["verification"]
    assert manifest["archive"] == {"segments": 0, "first_seq": None, "last_seq": 0}
    assert not [e for e in manifest["files"] if e["kind"] == "archive"]


@pytest.mark.postgres
def test_on_postgres_the_segments_in_the_data_dir_are_backed_up_and_restored(
        postgres_url: str, tmp_path: Path) -> None:
    import uuid

    import psycopg

    from mcp_trading.dataops import pgadmin

    name = f"mcpbka_{uuid.uuid4().hex[:10]}"
    pgadmin.create_database(postgres_url, name)
    url = pgadmin.with_database(postgres_url, name)
    try:
        trade_days(tmp_path / "var", days=6, database_url=url)
        settings = Settings(data_dir=tmp_path / "var", database_url=url)
        assert archive(settings, day_ns("2024-01-05"), segment_records=40).journal["segments"]
        whole = _whole_journal(settings)
        manifest = run_backup(settings)
        assert manifest["status"] == "verified", manifest["verification"]
        assert manifest["archive"]["segments"] > 0
        fresh = Settings(data_dir=tmp_path / "fresh", database_url=url)
        report = run_restore(fresh, manifest["path"])
        assert report["ok"], report["checks"]
        assert _whole_journal(fresh) == whole
        result = _verify_cli(fresh)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        with psycopg.connect(pgadmin.with_database(postgres_url, "postgres").replace(
                "postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                (name + "%",)).fetchall()
        for (db,) in rows:
            pgadmin.drop_database(postgres_url, db)
