"""The sweep's heatmap page, read as a person would: headless Chromium opens it from file://
with every network request aborted; the heatmap must be drawn, cell by cell.

Checked in the page: the SVG has a rendered size, one rendered `rect.cell` per (x, y) pair
with a non-zero box, colours that differ between the best and the worst cell, the axis values
as text, the ranked table's rows; no console or page error, no request but the file itself.
Browser setup and the offline page as tests/e2e/test_report_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_report_browser import _Opened
from tests.unit.backtest.support import sample_sweep_bars

from mcp_trading.backtest.heatmap import heatmap_of, sweep_html
from mcp_trading.backtest.points import grid_points, parse_axes
from mcp_trading.backtest.sweep import SweepSpec, run_sweep
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

pytestmark = pytest.mark.slow

_CELLS_JS = """
() => [...document.querySelectorAll('svg.heatmap rect.cell')].map(r => {
  const b = r.getBoundingClientRect();
  return {w: b.width, h: b.height, fill: r.getAttribute('fill'),
          tip: r.querySelector('title').textContent};
})
"""


def test_the_heatmap_page_draws_every_cell_offline(browser: Any, tmp_path: Path) -> None:
    axes = parse_axes(SmaCrossoverParams, ["fast=5:25:5", "slow=20,30,50,100"])
    spec = SweepSpec(strategy="sma_crossover", symbols=("AAPL", "IBM"))
    result = run_sweep(spec, grid_points(SmaCrossoverParams, axes), sample_sweep_bars("AAPL", "IBM"))
    hm = heatmap_of(result, "fast", "slow")
    path = tmp_path / "sweep.html"
    path.write_text(sweep_html(result, ("fast", "slow")), encoding="utf-8")
    opened = _Opened(browser, path)
    try:
        box = opened.page.locator("svg.heatmap").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
        cells = opened.page.evaluate(_CELLS_JS)
        assert len(cells) == 5 * 4
        assert all(c["w"] > 10 and c["h"] > 10 for c in cells)
        best = result.points[0]
        tip = f"fast={best.params['fast']}, slow={best.params['slow']}: "
        (best_cell,) = [c for c in cells if c["tip"].startswith(tip)]
        assert best_cell["fill"] == "#0072b2"  # the best is the full blue
        assert "n/a" in [c["tip"].rsplit(": ", 1)[1] for c in cells]  # fast >= slow: invalid
        assert len({c["fill"] for c in cells}) > 5
        texts = opened.page.evaluate(
            "() => [...document.querySelectorAll('svg.heatmap text')].map(t => t.textContent)")
        assert {"fast", "slow", "5", "25", "100"} <= set(texts)
        assert opened.page.locator("table#ranked tbody tr").count() == len(result.points) == 18
        assert sum(v is None for row in hm.values for v in row) == 2  # fast 20 and 25 with slow 20
        assert opened.errors == []
        assert opened.foreign_requests() == []
        opened.page.screenshot(path=str(tmp_path / "sweep.png"), full_page=True)
    finally:
        opened.close()
