"""Failover against two local fake Alpha Vantage servers: throttling opens the primary's
circuit, the backup serves, the half-open probe after the cool-down brings the primary back;
fetched history is stored once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.integration.providers.conftest import KEY, Rig, S, ny

from mcp_trading.domain.errors import NotFoundError, UnavailableError
from mcp_trading.security.principal import Principal, Role

VIEWER = Principal(Role.VIEWER, "k1", None, "test")


def quote_from(rig: Rig, symbol: str = "IBM") -> str:
    return asyncio.run(rig.svc.failover.quote(symbol)).provider


def circuit(rig: Rig, name: str) -> str:
    [p] = [p for p in rig.svc.providers(VIEWER)["providers"] if p["name"] == name]
    return str(p["circuit"])


def test_throttle_opens_the_circuit_fails_over_and_the_probe_brings_the_primary_back(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert quote_from(rig) == "alphavantage"
    rig.primary.throttle_next(1)

    assert quote_from(rig) == "alphavantage-b"  # the throttled call, then the backup
    assert circuit(rig, "alphavantage") == "open"
    calls = len(rig.primary.calls)
    assert quote_from(rig) == "alphavantage-b"
    assert len(rig.primary.calls) == calls  # an open circuit is not called

    view = rig.svc.providers(VIEWER)
    [switch] = view["switches"]
    assert (switch["kind"], switch["from"], switch["to"]) == ("quotes", "alphavantage",
                                                              "alphavantage-b")
    assert "throttled" in switch["reason"]
    assert view["serving"]["quotes"] == "alphavantage-b"
    alerts = [a for a in rig.platform.core.alerts.list() if a.kind == "provider_failover"]
    assert alerts and "alphavantage-b" in alerts[0].message
    assert "switched from alphavantage to alphavantage-b" in caplog.text

    rig.clock.advance(60 * S)  # the cool-down: the next call probes the primary
    assert circuit(rig, "alphavantage") == "half_open"
    assert quote_from(rig) == "alphavantage"
    assert circuit(rig, "alphavantage") == "closed"
    assert rig.svc.providers(VIEWER)["switches"][0]["to"] == "alphavantage"
    assert KEY not in caplog.text and KEY not in str(rig.svc.providers(VIEWER))


def test_consecutive_5xx_open_the_circuit_after_the_threshold(rig: Rig) -> None:
    rig.primary.fail_next(2, status=503)
    assert quote_from(rig) == "alphavantage-b"
    assert circuit(rig, "alphavantage") == "closed"  # one failure of two
    assert quote_from(rig) == "alphavantage-b"
    assert circuit(rig, "alphavantage") == "open"
    status = [p for p in rig.svc.providers(VIEWER)["providers"] if p["name"] == "alphavantage"]
    assert "HTTP 503" in status[0]["last_error"] and "apikey=***" in status[0]["last_error"]


def test_a_failed_probe_keeps_the_backup_serving_for_another_cool_down(rig: Rig) -> None:
    rig.primary.throttle_next(1)
    assert quote_from(rig) == "alphavantage-b"
    rig.clock.advance(60 * S)
    rig.primary.fail_next(1)
    assert quote_from(rig) == "alphavantage-b"
    assert circuit(rig, "alphavantage") == "open"


def test_when_every_provider_fails_the_error_names_each_reason(rig: Rig) -> None:
    with pytest.raises(NotFoundError, match="no quotes provider knows 'NOPE'"):
        asyncio.run(rig.svc.failover.quote("NOPE"))  # each answered: no such symbol
    rig.primary.throttle_next(1)
    rig.backup.fail_next(1)
    with pytest.raises(UnavailableError, match="every quotes provider failed") as failed:
        asyncio.run(rig.svc.failover.quote("IBM"))
    assert "alphavantage: throttled" in failed.value.message
    assert "alphavantage-b: HTTP 503" in failed.value.message


def test_a_stale_quote_moves_on_and_is_served_marked_stale_when_none_is_fresh(rig: Rig) -> None:
    rig.primary.as_of = "2010-01-07"  # the primary lags a day behind
    fetched = asyncio.run(rig.svc.failover.quote("IBM"))
    assert (fetched.provider, fetched.stale) == ("alphavantage-b", False)
    rig.clock.advance(3600 * S)  # an hour after the close: both quotes are old now
    fetched = asyncio.run(rig.svc.failover.quote("IBM"))
    assert (fetched.provider, fetched.stale) == ("alphavantage", True)
    assert fetched.value.ts == ny("2010-01-07 16:00")


def test_a_disabled_provider_is_skipped_by_the_chain(rig: Rig) -> None:
    rig.svc.registry.set_active("alphavantage", False)
    assert quote_from(rig) == "alphavantage-b"
    assert rig.primary.calls == []


# ---- history through the store ---------------------------------------------------------------
def daily(rig: Rig, start: str, end: str | None = None) -> tuple[str, list[float], int, bool]:
    assert rig.svc.history is not None
    got = asyncio.run(rig.svc.history.bars("AAPL", "1Day", start=ny(f"{start} 00:00"),
                                           end=None if end is None else ny(f"{end} 00:00")))
    return got.source, got.bars.close.tolist(), got.fetched, got.complete


def test_fetched_history_is_stored_under_the_provider_and_never_fetched_twice(rig: Rig) -> None:
    closes = [214.01, 214.38, 210.97, 210.58, 211.98]
    assert daily(rig, "2010-01-04", "2010-01-08") == ("alphavantage", closes, 5, True)
    [series] = rig.store.series("AAPL")
    assert (series.source, series.timeframe, series.bars) == ("alphavantage", "1Day", 5)

    assert daily(rig, "2010-01-04", "2010-01-08") == ("alphavantage", closes, 0, True)
    assert daily(rig, "2010-01-05") == ("alphavantage", closes[1:], 0, True)  # up to now
    assert len(rig.primary.calls) == 1
    assert rig.backup.calls == []


def test_only_the_missing_part_is_fetched_and_stored(rig: Rig) -> None:
    rig.primary.as_of = "2010-01-06"  # the source had only up to the 6th then
    assert daily(rig, "2010-01-04")[2] == 3
    rig.primary.as_of = "2010-01-08"
    rig.clock.advance(5 * 86_400 * S)  # past the weekend's slack: the series is behind now
    source, closes, fetched, _ = daily(rig, "2010-01-04")
    assert (source, fetched) == ("alphavantage", 2)  # Jan 7 and 8 only
    assert closes == [214.01, 214.38, 210.97, 210.58, 211.98]


def test_history_fails_over_and_the_backups_stored_series_then_answers(rig: Rig) -> None:
    rig.primary.throttle_next(1)
    assert daily(rig, "2010-01-04", "2010-01-08")[:3] == (
        "alphavantage-b", [214.01, 214.38, 210.97, 210.58, 211.98], 5)
    rig.clock.advance(120 * S)  # the primary's circuit would probe again...
    assert daily(rig, "2010-01-04", "2010-01-08")[0] == "alphavantage-b"  # ...but it is stored
    assert len(rig.primary.calls) == 1 and len(rig.backup.calls) == 1


def test_when_every_history_provider_fails_the_stored_part_is_served_incomplete(rig: Rig) -> None:
    rig.primary.as_of = "2010-01-06"
    daily(rig, "2010-01-04")
    rig.clock.advance(12 * 86_400 * S)
    rig.primary.fail_next(1)
    rig.backup.fail_next(1)
    source, closes, fetched, complete = daily(rig, "2010-01-04")
    assert (source, len(closes), fetched, complete) == ("alphavantage", 3, 0, False)
