"""The SQL store on PostgreSQL survives the server dropping its connections (as in a restart)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from mcp_trading.adapters.store import SqlJournalStore
from mcp_trading.domain.events import Event, OrderFilled
from mcp_trading.kernel import codec
from mcp_trading.kernel.journal import GroupCommitJournal

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns

_OTHER_BACKENDS = ("SELECT pid FROM pg_stat_activity "
                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def fill(seq: int) -> Event:
    return OrderFilled("o-1", Decimal(1), Decimal("100.01"), Decimal(0), T0 + seq)


def terminate_backends(postgres_url: str) -> None:
    """Cut every other connection to the test database server-side, and wait until they end."""
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
        assert killed, "the store held no connection to cut"
        deadline = time.monotonic() + 2
        while admin.execute(_OTHER_BACKENDS).fetchall():  # termination is asynchronous
            assert time.monotonic() < deadline, "terminated backends did not exit"
            time.sleep(0.01)


@pytest.fixture
def store(postgres_schema_url: str) -> Iterator[SqlJournalStore]:
    opened = SqlJournalStore(postgres_schema_url, migrate=True)
    yield opened
    opened.close()


def test_reads_reconnect_after_the_server_drops_pooled_connections(
        store: SqlJournalStore, postgres_url: str) -> None:
    store.append([codec.record(1, fill(1))])
    assert store.last_seq() == 1  # leaves a connection in the pool

    terminate_backends(postgres_url)

    assert store.last_seq() == 1  # pre-ping replaced the dead pooled connection


def test_journal_retries_through_dropped_connections_and_writes_each_event_once(
        store: SqlJournalStore, postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mcp_trading.kernel.journal")
    journal = GroupCommitJournal(store, retry_interval_s=0.05)
    try:
        for seq in range(1, 6):
            journal.append(seq, fill(seq))
        assert journal.flush(timeout=2) == 5
        assert store.last_seq() == 5

        terminate_backends(postgres_url)
        for seq in range(6, 11):
            journal.append(seq, fill(seq))

        assert journal.flush(timeout=3) == 10
        assert journal.error is None and journal.failing is None
        # the writer's connection died with the others, so this went through a retry
        assert "journal store unavailable" in caplog.text
        assert list(codec.events(store.read())) == [(seq, fill(seq)) for seq in range(1, 11)]
    finally:
        journal.close(timeout=3)
    assert journal.error is None
