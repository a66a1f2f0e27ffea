"""Alert rules on a manual clock: for-duration, de-duplication, repeat and resolution."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.platform.alert_center import AlertCenter, Severity
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.services import registry
from mcp_trading.services.alerts.alerting_file import load_alerting
from mcp_trading.services.alerts.figures import Figures
from mcp_trading.services.alerts.rules import METRICS, Rule, RuleEvaluator

S = 1_000_000_000
CPU = Rule(name="high_cpu", metric="cpu_percent", above=90, for_s=300,
           severity=Severity.WARNING, message="CPU use above 90 %")


def _evaluator(*rules: Rule) -> tuple[ManualClock, AlertCenter, RuleEvaluator]:
    clock = ManualClock()
    center = AlertCenter(now_ns=clock.now_ns)
    return clock, center, RuleEvaluator(rules, center, clock)


def test_cpu_above_90_fires_only_after_5_minutes_and_once() -> None:
    clock, center, ev = _evaluator(CPU)
    assert ev.evaluate({"cpu_percent": 95}) == []
    assert ev.phase("high_cpu") == "pending"
    clock.advance(299 * S)
    assert ev.evaluate({"cpu_percent": 97}) == []
    clock.advance(1 * S)
    [alert] = ev.evaluate({"cpu_percent": 96})
    assert alert.kind == "high_cpu" and alert.severity is Severity.WARNING
    assert alert.message == "CPU use above 90 %: 96 for 300 s"
    assert alert.details["threshold"] == 90 and alert.details["value"] == 96
    for _ in range(10):  # de-duplicated while it stays above
        clock.advance(60 * S)
        assert ev.evaluate({"cpu_percent": 99}) == []
    assert len(center.list()) == 1


def test_a_dip_below_restarts_the_for_duration() -> None:
    clock, _, ev = _evaluator(CPU)
    ev.evaluate({"cpu_percent": 95})
    clock.advance(200 * S)
    ev.evaluate({"cpu_percent": 50})  # back to ok
    clock.advance(200 * S)
    assert ev.evaluate({"cpu_percent": 95}) == []  # pending again, from now
    clock.advance(299 * S)
    assert ev.evaluate({"cpu_percent": 95}) == []
    clock.advance(1 * S)
    assert len(ev.evaluate({"cpu_percent": 95})) == 1


def test_resolution_is_one_info_alert_and_rearms_the_rule() -> None:
    memory = Rule(name="high_memory", metric="memory_percent", above=95,
                  severity=Severity.CRITICAL)
    _, center, ev = _evaluator(memory)
    [fired] = ev.evaluate({"memory_percent": 96.5})
    assert fired.severity is Severity.CRITICAL and fired.message == "memory_percent above 95: 96.5"
    [resolved] = ev.evaluate({"memory_percent": 80})
    assert resolved.severity is Severity.INFO and resolved.details["resolved"] is True
    assert ev.evaluate({"memory_percent": 80}) == []
    assert len(ev.evaluate({"memory_percent": 99})) == 1  # a new episode
    assert [a.severity for a in center.list()] == [Severity.CRITICAL, Severity.INFO,
                                                   Severity.CRITICAL]


def test_repeat_raises_again_while_it_lasts() -> None:
    disk = Rule(name="disk_space", metric="disk_percent", above=90, repeat_s=3600)
    clock, _, ev = _evaluator(disk)
    assert len(ev.evaluate({"disk_percent": 91})) == 1
    clock.advance(3599 * S)
    assert ev.evaluate({"disk_percent": 91}) == []
    clock.advance(1 * S)
    assert len(ev.evaluate({"disk_percent": 92})) == 1


def test_an_unknown_figure_never_fires() -> None:
    bus = Rule(name="bus_connection", metric="bus_down", above=0)
    _, _, ev = _evaluator(bus)
    assert ev.evaluate({"bus_down": None}) == [] and ev.evaluate({}) == []
    assert len(ev.evaluate({"bus_down": 1})) == 1


def test_the_shipped_rules_cover_the_runbook() -> None:
    config = load_alerting(None, lists=("ops-team", "trading-desk", "security-team",
                                        "senior-ops", "dev-lead", "management"))
    by_metric = {r.metric: r for r in config.rules}
    assert set(by_metric) == set(METRICS)  # every measured figure has a rule
    assert by_metric["cpu_percent"].above == 90 and by_metric["cpu_percent"].for_s == 300
    assert by_metric["memory_percent"].above == 95
    assert by_metric["health_latency_ms"].above == 1000
    levels = config.escalation.levels
    assert [(lv.level, lv.after_s) for lv in levels] == [(2, 900), (3, 1800)]


def test_the_figures_measured_are_the_rules_metrics(tmp_path: Path) -> None:
    platform = bootstrap(Settings(data_dir=tmp_path))
    platform.metrics.orders_accepted.inc(15)
    platform.metrics.orders_rejected.inc(5)
    figures = Figures(platform)
    got = asyncio.run(figures.collect())
    assert set(got) == set(METRICS)
    assert 0 <= (got["cpu_percent"] or 0) <= 100 and 0 < (got["memory_percent"] or 0) <= 100
    assert got["store_down"] == 0 and got["bus_down"] is None  # embedded: no bus
    assert got["backup_age_h"] is None  # never backed up
    assert got["order_reject_percent"] is None  # the window starts now
    platform.metrics.orders_accepted.inc(15)
    platform.metrics.orders_rejected.inc(5)
    assert asyncio.run(figures.collect())["order_reject_percent"] == 25.0
    platform.health.journal_ok = False
    assert asyncio.run(figures.collect())["store_down"] == 1


def test_the_health_probe_keeps_its_connections_between_evaluations(tmp_path: Path) -> None:
    # every 10 s the alerting task probes each service's /health; a client made anew each
    # time costs a TLS context (~40 ms of the event loop) and a connection per service
    accepted: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()  # the client closed its connection

    async def twice() -> tuple[int, int]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        urls = dict.fromkeys(registry.names(), f"http://127.0.0.1:{port}")
        figures = Figures(bootstrap(Settings(data_dir=tmp_path, service_urls=urls)))
        try:
            await figures.collect()
            first = len(accepted)
            got = await figures.collect()
            assert got["health_latency_ms"] is not None
            return first, len(accepted)
        finally:
            await figures.close()
            server.close()

    first, after = asyncio.run(twice())
    assert first >= 1
    assert after == first, "the second evaluation opened new connections"
