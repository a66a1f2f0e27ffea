"""`/orders/{id}/history` of an order whose first events were archived reads them from the
archived journal segments (only those of its lifetime) and says so; a recent order's history
is whole and carries no such note."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient
from tests.integration.dataops.trading_days import day_ns, trade_days
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.adapters.store import open_store
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import orders, orders_archive
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive import archive, archive_dir
from mcp_trading.kernel import codec
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.services.orders import rest as orders_rest

VIEWER = {"Authorization": "Bearer viewer"}


def _one_id(url: str, table: object) -> str:
    engine = create_store_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(table.c.id).limit(1)).scalar_one()  # type: ignore[attr-defined]
    engine.dispose()
    return str(found)


def _all_events_of(settings: Settings, order_id: str) -> list[tuple[int, str]]:
    """The order's events in the whole journal (segments + hot), the slow way."""
    store = open_store(settings.resolved_database_url)
    try:
        return [(seq, type(event).__name__) for seq, event in codec.events(
            segments.full_journal(archive_dir(settings), store))
            if getattr(event, "order_id", None) == order_id]
    finally:
        store.close()


def test_an_archived_orders_history_is_read_from_the_segments(tmp_path: Path) -> None:
    trade_days(tmp_path, days=10)
    settings = Settings(data_dir=tmp_path)
    report = archive(settings, day_ns("2024-01-07"), segment_records=20)  # five of ten days
    assert len(report.journal["segments"]) > 3
    old = _one_id(settings.resolved_reports_url, orders_archive)
    platform = bootstrap(settings, authenticator=FakeAuthenticator())
    platform.open()
    try:
        recent = next(iter(platform.kernel_runtime.kernel.state.orders), None) or _one_id(
            settings.resolved_reports_url, orders)
        client = TestClient(orders_rest.build(platform))
        archived = client.get(f"/orders/{old}/history", headers=VIEWER).json()
        whole = client.get(f"/orders/{recent}/history", headers=VIEWER).json()
    finally:
        if platform.runtime is not None:
            platform.runtime.close()
        if platform.projector is not None:
            platform.projector.stop()
    assert archived["order_id"] == old and archived["order"]["archived"] is True
    assert [(e["seq"], e["event"]) for e in archived["events"]] == _all_events_of(settings, old)
    assert archived["events"][0]["event"] in ("OrderAccepted", "OrderRejected")
    files = archived["archived"]["segments"]
    assert 1 <= len(files) <= 2 and set(files) <= set(report.journal["segments"])
    assert archived["archived"]["events"] >= 1 and "segments" in archived["archived"]["note"]
    assert whole["events"][0]["event"] == "OrderAccepted"
    assert "archived" not in whole
