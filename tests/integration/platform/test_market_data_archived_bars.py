"""`GET /bars/{symbol}` of live feed-built bars says so when the asked range reaches before
the archive horizon of feed-built bars (`mcp-trading archive` moved them to bars_archive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from tests.integration.platform.test_market_data_api import (
    MINUTE,
    T0,
    VIEWER,
    Harness,
    close_platform,
    open_platform,
    quote,
)

from mcp_trading.config import Settings
from mcp_trading.dataops.archive import archive
from mcp_trading.services.market_data import rest as market_data


def test_a_range_reaching_before_the_bar_archive_says_so(tmp_path: Path) -> None:
    first = open_platform(tmp_path)
    try:
        with TestClient(market_data.build(first)) as client:
            h = Harness(first, client)
            h.start()
            h.feed(*[quote(last=f"{100 + m}.00", ts=T0 + m * MINUTE) for m in range(4)],
                   kernel=False)
            h.stop()  # stopping writes the completed bars
    finally:
        close_platform(first)
    report = archive(Settings(data_dir=tmp_path, database_url=None), T0 + 2 * MINUTE)
    assert report.rows["bars"] == 2

    second = open_platform(tmp_path)
    answers: dict[str, Any] = {}
    try:
        with TestClient(market_data.build(second)) as client:
            h = Harness(second, client)
            h.start()
            h.feed(quote(last="200.00", ts=T0 + 10 * MINUTE),
                   quote(last="201.00", ts=T0 + 11 * MINUTE), kernel=False)
            for name, params in {"early": {"start": "2026-01-01T00:00:00Z"},
                                 "late": {"start": "2026-01-01T00:02:00Z"},
                                 "latest-full": {"limit": "2"}, "latest": {}}.items():
                answers[name] = client.get("/bars/AAPL", params=params, headers=VIEWER).json()
            h.stop()
    finally:
        close_platform(second)

    early = answers["early"]
    # (a minute bar is complete once a later minute quotes: 103 and 201 never were)
    assert [b["o"] for b in early["bars"]] == ["102.00", "200.00"]
    assert early["archived"]["before"] == "2026-01-01T00:02:00.000000Z"
    assert "bars_archive" in early["archived"]["note"]
    assert "archived" not in answers["late"]  # the range lies after the horizon
    assert "archived" not in answers["latest-full"]  # the page is full: nothing missing
    assert answers["latest"]["archived"]["before"] == early["archived"]["before"]
