"""A distributed replica that fell behind across an archive run (real SQLite journal, the real
archive run): the events it needs next are in archived segments, not in the hot journal; it
catches up from the snapshot that covers them instead of stalling at the gap."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.dataops.test_archive import digest
from tests.integration.dataops.trading_days import day_ns, trade_days

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store import open_store
from mcp_trading.config import Settings
from mcp_trading.dataops import checks
from mcp_trading.dataops.archive import archive
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.processes.distributed.replica import ReplicaRuntime, open_replica


class _Clock:
    def now_ns(self) -> int:
        return 0


def _replica(settings: Settings) -> ReplicaRuntime:
    return open_replica(open_store(settings.resolved_database_url),
                        instruments=default_instruments(), clock=_Clock(),
                        calendar=AlwaysOpen(), config=settings.kernel_config())


def test_a_replica_behind_an_archive_run_catches_up_from_the_snapshot(tmp_path: Path) -> None:
    data = tmp_path / "var"
    trade_days(data, days=2)
    settings = Settings(data_dir=data)
    replica = _replica(settings)
    try:
        held = replica.seq
        trade_days(data, start="2024-01-08", days=4, seed=9)  # the replica misses all this
        report = archive(settings, day_ns("2024-01-10"))
        assert report.journal["archived_upto"] > held + 1, report.journal
        hot = list(replica.store.read(after_seq=held, limit=1))
        assert hot and hot[0].seq > held + 1  # the events it needs next left the journal

        asyncio.run(replica.fill_from_store())

        assert replica.store_error is None
        assert replica.seq == checks.journal_last_seq(settings.resolved_database_url)
        assert checks.state_digest(replica.kernel.state) == digest(settings)
        assert replica.journal.durable_seq == replica.seq
        trade_days(data, start="2024-01-15", days=1, seed=10)  # and it follows on from there
        asyncio.run(replica.fill_from_store())
        assert checks.state_digest(replica.kernel.state) == digest(settings)
    finally:
        replica.close()
