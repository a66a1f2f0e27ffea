"""Inline SVG line and bar charts for the reports: axes with ticks, axis labels, a title, a legend.

No script, no external font (the generic `sans-serif`), no network: the markup is complete in
itself and every text in it is escaped. One `<polyline>` per series with one point per value
(the browser test counts them against the days), so nothing is resampled; 10 years of daily
points is ~2,500 points, a few tens of kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from itertools import pairwise

__all__ = ["PALETTE", "Series", "bar_chart", "column_chart", "line_chart", "nice_ticks"]

#: colours of the series in order (Okabe-Ito, distinguishable with colour blindness)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_WIDTH, _HEIGHT = 860, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 20, 40, 52  # margins: tick labels, title, axis label
_LEGEND_ROW = 16


@dataclass(frozen=True, slots=True)
class Series:
    """One line: a name for the legend, x as ns timestamps (increasing) and y values."""

    name: str
    ts: Sequence[int]
    values: Sequence[float]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 × 10^k apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12) + 0.0)  # + 0.0: no -0.0 label
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12) + 0.0)
    return ticks


def _date_ticks(low: int, high: int, count: int = 6) -> list[int]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [int(low + i * step) for i in range(count)]


def _date(ts: int, span_ns: int) -> str:
    moment = datetime.fromtimestamp(ts / 1e9, UTC)
    if span_ns < 3 * 86_400 * 10**9:  # an intraday chart needs the time
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


class _Frame:
    """Data coordinates to pixels."""

    def __init__(self, x0: int, x1: int, y0: float, y1: float, top: int) -> None:
        self.x0, self.x1, self.y0, self.y1 = x0, max(x1, x0 + 1), y0, y1
        self.top = top  # below the title and the legend
        self.width = _WIDTH - _LEFT - _RIGHT
        self.height = _HEIGHT - top - _BOTTOM

    def x(self, ts: int) -> float:
        return _LEFT + (ts - self.x0) / (self.x1 - self.x0) * self.width

    def y(self, value: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return self.top + (self.y1 - value) / span * self.height


def _axes(frame: _Frame, yticks: list[float], fmt: Callable[[float], str]) -> list[str]:
    bottom = frame.top + frame.height
    parts = [f'<line class="axis" x1="{_LEFT}" y1="{frame.top}" x2="{_LEFT}" y2="{bottom}" '
             'stroke="#333"/>',
             f'<line class="axis" x1="{_LEFT}" y1="{bottom}" x2="{_LEFT + frame.width}" '
             f'y2="{bottom}" stroke="#333"/>']
    for tick in yticks:
        y = frame.y(tick)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + frame.width}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text class="ytick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(fmt(tick))}</text>')
    span = frame.x1 - frame.x0
    ticks = _date_ticks(frame.x0, frame.x1)
    for i, ts in enumerate(ticks):
        x = frame.x(ts)
        # the last label ends at its tick so it is not cut at the right edge
        anchor = "end" if i == len(ticks) - 1 and i else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" '
                     'stroke="#333"/>')
        parts.append(f'<text class="xtick" x="{x:.1f}" y="{bottom + 18}" text-anchor="{anchor}">'
                     f'{escape(_date(ts, span))}</text>')
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    """A row of up to 4 names per line between the title and the plot (never over a line)."""
    parts = []
    for i, line in enumerate(series):
        x = _LEFT + 10 + (i % 4) * 190
        y = _TOP + 6 + (i // 4) * _LEGEND_ROW
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="12" height="3" fill="{colour}"/>'
                     f'<text class="legend" x="{x + 16}" y="{y - 4}">{escape(line.name)}</text>')
    return parts


def _bounds(series: Sequence[Series]) -> tuple[int, int, float, float]:
    xs = [int(t) for line in series for t in line.ts]
    ys = [float(v) for line in series for v in line.values if math.isfinite(float(v))]
    if not xs or not ys:
        return 0, 1, 0.0, 1.0
    return min(xs), max(xs), min(ys), max(ys)


def line_chart(series: Sequence[Series], *, title: str, y_label: str,
               y_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
               css_class: str = "chart") -> str:
    """An SVG line chart of `series` sharing one time axis (NaN values are left out)."""
    x0, x1, low, high = _bounds(series)
    yticks = nice_ticks(low, high)
    legend_rows = (len(series) + 3) // 4 if len(series) > 1 else 0
    frame = _Frame(x0, x1, yticks[0], yticks[-1], _TOP + legend_rows * _LEGEND_ROW)
    parts = [f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
             f'<title>{escape(title)}</title>',
             f'<text class="title" x="{_WIDTH / 2}" y="22" text-anchor="middle" font-size="14" '
             f'font-weight="bold">{escape(title)}</text>',
             f'<text class="ylabel" transform="translate(16 {frame.top + frame.height / 2}) '
             f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>',
             f'<text class="xlabel" x="{_LEFT + frame.width / 2}" y="{_HEIGHT - 8}" '
             'text-anchor="middle">date (UTC)</text>',
             *_axes(frame, yticks, y_format)]
    for i, line in enumerate(series):
        points = " ".join(f"{frame.x(int(t)):.2f},{frame.y(float(v)):.2f}"
                          for t, v in zip(line.ts, line.values, strict=True)
                          if math.isfinite(float(v)))
        parts.append(f'<polyline class="series" data-name="{escape(line.name)}" fill="none" '
                     f'stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="1.5" '
                     f'points="{points}"/>')
    if len(series) > 1:
        parts += _legend(series)
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_head(title: str, css_class: str, height: int = _HEIGHT) -> list[str]:
    return [f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
            f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
            f'<title>{escape(title)}</title>',
            f'<text class="title" x="{_WIDTH / 2}" y="22" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{escape(title)}</text>']


def column_chart(ts: Sequence[int], values: Sequence[float], *, title: str, y_label: str,
                 labels: Sequence[str] | None = None,
                 y_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
                 css_class: str = "chart columns") -> str:
    """Vertical bars on a time axis, one `<rect class="bar">` per value, drawn from zero
    (a loss below it, in the second colour); `labels` name the bars (default: the dates)."""
    finite = [float(v) for v in values if math.isfinite(float(v))] or [0.0]
    yticks = nice_ticks(min(0.0, *finite), max(0.0, *finite))
    # half a bar's slot of room at each end, so the first and last bars sit inside the axes
    slot = (int(ts[-1]) - int(ts[0])) / max(len(ts) - 1, 1) if ts else 1.0
    frame = _Frame(int(ts[0] - slot / 2) if ts else 0, int(ts[-1] + slot / 2) if ts else 1,
                   yticks[0], yticks[-1], _TOP)
    # 70 % of the narrowest gap between two bars: days need not be evenly spaced
    gaps = [frame.x(int(b)) - frame.x(int(a)) for a, b in pairwise(ts)]
    width = max(min(gaps or [frame.width]) * 0.7, 1.0)
    parts = [*_svg_head(title, css_class),
             f'<text class="ylabel" transform="translate(16 {frame.top + frame.height / 2}) '
             f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>',
             f'<text class="xlabel" x="{_LEFT + frame.width / 2}" y="{_HEIGHT - 8}" '
             'text-anchor="middle">date (UTC)</text>', *_axes(frame, yticks, y_format)]
    names = list(labels) if labels is not None else [_date(int(t), 10**18) for t in ts]
    for t, v, name in zip(ts, values, names, strict=True):
        value = float(v) if math.isfinite(float(v)) else 0.0
        top, bottom = sorted((frame.y(0.0), frame.y(value)))
        parts.append(f'<rect class="bar" data-name="{escape(name)}" data-value="{value}" '
                     f'x="{frame.x(int(t)) - width / 2:.2f}" y="{top:.2f}" width="{width:.2f}" '
                     f'height="{max(bottom - top, 0.5):.2f}" '
                     f'fill="{PALETTE[0] if value >= 0 else PALETTE[1]}">'
                     f'<title>{escape(name)}: {escape(y_format(value))}</title></rect>')
    parts += [f'<line class="axis" x1="{_LEFT}" y1="{frame.y(0.0):.2f}" '
              f'x2="{_LEFT + frame.width}" y2="{frame.y(0.0):.2f}" stroke="#333"/>', "</svg>"]
    return "\n".join(parts)


_BAR_ROW, _BAR_LEFT = 22, 170  # bar height + gap; room for the category labels


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, x_label: str,
              x_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
              css_class: str = "chart bars") -> str:
    """A horizontal bar chart: one `<rect class="bar">` per (label, value), drawn from zero
    (negative values to the left), on a value axis with ticks."""
    values = [v for _, v in bars if math.isfinite(v)] or [0.0]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    lo, hi = ticks[0], ticks[-1]
    width = _WIDTH - _BAR_LEFT - _RIGHT
    height = _TOP + len(bars) * _BAR_ROW + _BOTTOM
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        return _BAR_LEFT + (v - lo) / span * width

    parts = [f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
             f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
             f'<title>{escape(title)}</title>',
             f'<text class="title" x="{_WIDTH / 2}" y="22" text-anchor="middle" font-size="14" '
             f'font-weight="bold">{escape(title)}</text>']
    bottom = _TOP + len(bars) * _BAR_ROW
    for t in ticks:
        parts.append(f'<line class="grid" x1="{x(t):.2f}" y1="{_TOP}" x2="{x(t):.2f}" '
                     f'y2="{bottom}" stroke="#ddd"/><text class="tick" x="{x(t):.2f}" '
                     f'y="{bottom + 14}" text-anchor="middle">{escape(x_format(t))}</text>')
    for i, (label, value) in enumerate(bars):
        y = _TOP + i * _BAR_ROW
        v = value if math.isfinite(value) else 0.0
        left, right = sorted((x(0.0), x(v)))
        parts.append(f'<text class="label" x="{_BAR_LEFT - 6}" y="{y + 14}" text-anchor="end">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect class="bar" data-name="{escape(label)}" data-value="{value}" '
                     f'x="{left:.2f}" y="{y + 3}" width="{max(right - left, 0.5):.2f}" '
                     f'height="{_BAR_ROW - 6}" fill="{PALETTE[0] if v >= 0 else PALETTE[1]}">'
                     f'<title>{escape(label)}: {escape(x_format(value))}</title></rect>')
    parts += [f'<line class="axis" x1="{x(0.0):.2f}" y1="{_TOP}" x2="{x(0.0):.2f}" '
              f'y2="{bottom}" stroke="#333"/>',
              f'<text class="xlabel" x="{_BAR_LEFT + width / 2}" y="{height - 8}" '
              f'text-anchor="middle">{escape(x_label)}</text>', "</svg>"]
    return "\n".join(parts)
