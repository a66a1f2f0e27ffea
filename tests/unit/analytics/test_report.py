"""The HTML report and comparison are self-contained and escaped; the summary is plain text."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.analytics_runs import sample_run

from mcp_trading.analytics.report import compare_report, drawdown_series, report_html
from mcp_trading.analytics.svg import Series, line_chart, nice_ticks
from mcp_trading.analytics.text import summary_text

EVIL = '<script>alert("x")</script>'


def _points(svg_class: str, page: str) -> list[int]:
    charts = re.findall(rf'<svg class="chart {svg_class}".*?</svg>', page, re.S)
    assert len(charts) == 1
    return [len(p.split()) for p in re.findall(r'<polyline[^>]* points="([^"]*)"', charts[0])]


def test_the_report_has_both_charts_with_one_point_per_day() -> None:
    run = sample_run()
    page = report_html(run)
    assert _points("equity", page) == [len(run.curve)] == [750]
    assert _points("drawdown", page) == [750]
    assert page.count("<tr class=") == len(run.trades) > 5
    assert "Sharpe ratio" in page and run.source_hash in page and "0.1.0" in page


def test_the_report_fetches_nothing() -> None:
    page = report_html(sample_run())
    assert "<script" not in page and "<link" not in page and "@import" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # a namespace name, never fetched
    assert "default-src 'none'" in page


def test_names_and_parameters_render_as_text() -> None:
    run = sample_run(title=EVIL, params={EVIL: EVIL, "slow": 50})
    for page in (report_html(run), compare_report([run, sample_run()], title=EVIL)):
        assert EVIL not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_comparison_overlays_the_curves_and_lists_metrics_side_by_side() -> None:
    runs = [sample_run(fast=10, slow=30), sample_run(fast=20, slow=50),
            sample_run("MSFT", cash=Decimal(50_000))]
    page = compare_report(runs)
    assert _points("equity", page) == [750, 750, 750]
    assert "equity / starting equity" in page  # different starting cash: growth compared
    header = re.search(r'<table id="metrics"><thead><tr>(.*?)</tr>', page, re.S)
    assert header is not None and header.group(1).count("<th>") == 4
    assert "param fast" in page and "param slow" in page


def test_the_drawdown_counts_the_starting_cash_as_a_peak() -> None:
    run = sample_run()
    depth = drawdown_series(run.curve)
    assert depth.shape == (len(run.curve),) and float(depth.max()) <= 0
    assert run.metrics.max_drawdown is not None
    assert float(depth.min()) == run.metrics.max_drawdown


def test_the_summary_is_plain_aligned_text() -> None:
    run = sample_run()
    text = summary_text(run)
    lines = text.splitlines()
    assert lines[0] == run.title and set(lines[1]) == {"="}
    assert any(line.startswith("Sharpe ratio") for line in lines)
    assert f"({len(run.curve):,} days)" in text
    assert "<" not in text
    gaps = [re.match(r"^(.*?\S) {2,}(\S.*)$", line) for line in lines[2:]
            if not line.startswith("note")]
    assert len({gap.start(2) for gap in gaps if gap}) == 1 and all(gaps)  # one value column


def test_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0.0, 97.0) == [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    assert nice_ticks(-0.23, 0.0) == [-0.25, -0.2, -0.15, -0.1, -0.05, 0.0]
    ticks = nice_ticks(5.0, 5.0)
    assert ticks[0] < 5.0 < ticks[-1]


def test_a_run_without_trades_says_so() -> None:
    run = sample_run(fast=5, slow=5)  # equal windows never cross: no fill at all
    assert run.trades == [] and run.metrics.trades == 0
    page = report_html(run)
    assert "No closed trades." in page and page.count("<tr class=") == 0
    assert _points("equity", page) == [750]
    assert "n/a" in page  # win rate and profit factor undefined


def test_an_intraday_chart_labels_times() -> None:
    minute = 60 * 10**9
    start = 1_600_000_000 * 10**9
    svg = line_chart([Series("x", [start + i * minute for i in range(390)], [1.0 + i for i in range(390)])],
                     title="intraday", y_label="equity")
    labels = re.findall(r'<text class="xtick"[^>]*>([^<]*)</text>', svg)
    assert labels[0] == "09-13 12:26" and len(labels) == 6
