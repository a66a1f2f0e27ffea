"""A sweep over two parameters as a heatmap: inline SVG in a self-contained HTML page, and text.

Cells: one per (x value, y value) the sweep evaluated; a cell's value is the ranking metric
of that point — when other parameters vary too, the best of the points sharing the cell (the
page says so). A point the grid skipped (invalid, e.g. fast >= slow) or whose metric is null
is a grey "n/a" cell. Colour runs from the worst value (#D55E00, orange) through a pale
middle to the best (#0072B2, blue) in the metric's own direction, so blue is always better.

The page is one file: inline CSS and SVG, no script, no external font, a
Content-Security-Policy that forbids fetching anything; every text from the sweep (parameter
names and values) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any, NamedTuple

from mcp_trading.backtest.sweep import RANK_METRICS, SweepResult
from mcp_trading.domain.errors import InvalidError

__all__ = ["Heatmap", "heatmap_of", "heatmap_svg", "heatmap_text", "sweep_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CELL_W, _CELL_H, _LEFT, _TOP, _BOTTOM, _RIGHT = 64, 30, 90, 48, 56, 24
_WORST, _MIDDLE, _BEST = (0xD5, 0x5E, 0x00), (0xF4, 0xF1, 0xE8), (0x00, 0x72, 0xB2)


class Heatmap(NamedTuple):
    x: str
    y: str
    metric: str
    xs: list[Any]
    ys: list[Any]
    values: list[list[float | None]]  # values[row for ys][column for xs]
    folded: bool  # other parameters varied: each cell is the best over them


def _order(values: set[Any]) -> list[Any]:
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return sorted(values, key=str)


def heatmap_of(result: SweepResult, x: str, y: str) -> Heatmap:
    """The grid of `result`'s ranking metric over parameters `x` and `y`."""
    if not result.points:
        raise InvalidError("the sweep has no points to draw", field="heatmap")
    names = list(result.points[0].params)
    for name in (x, y):
        if name not in names:
            raise InvalidError(f"heatmap parameter {name!r} is not one of {', '.join(names)}",
                               field="heatmap")
    if x == y:
        raise InvalidError("a heatmap needs two different parameters", field="heatmap")
    metric = result.spec.rank
    xs = _order({p.params[x] for p in result.points})
    ys = _order({p.params[y] for p in result.points})
    cells: dict[tuple[Any, Any], float | None] = {}
    others = {tuple(sorted((k, str(v)) for k, v in p.params.items() if k not in (x, y)))
              for p in result.points}
    for p in result.points:  # ranked best first: the first value seen in a cell is its best
        key = (p.params[x], p.params[y])
        value = p.value(metric)
        if cells.get(key) is None:
            cells[key] = value
    values = [[cells.get((vx, vy)) for vx in xs] for vy in ys]
    return Heatmap(x, y, metric, xs, ys, values, len(others) > 1)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    return "#" + "".join(f"{round(u + (v - u) * t):02x}" for u, v in zip(a, b, strict=True))


def _position(value: float, low: float, high: float, higher: bool) -> float:
    """0 for the worst value, 1 for the best."""
    t = 0.5 if high == low else (value - low) / (high - low)
    return t if higher else 1.0 - t


def _colour(value: float, low: float, high: float, higher: bool) -> str:
    t = _position(value, low, high, higher)
    return _mix(_WORST, _MIDDLE, t * 2) if t < 0.5 else _mix(_MIDDLE, _BEST, (t - 0.5) * 2)


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def heatmap_svg(hm: Heatmap) -> str:
    """The heatmap as an inline SVG element (one `<rect class="cell">` per cell)."""
    width = _LEFT + _CELL_W * len(hm.xs) + _RIGHT
    height = _TOP + _CELL_H * len(hm.ys) + _BOTTOM
    known = [v for row in hm.values for v in row if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    higher = RANK_METRICS.get(hm.metric, True)
    title = f"{hm.metric} by {hm.x} and {hm.y}"
    parts = [f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
             f'{height}" width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
             'font-family="sans-serif" font-size="11">', f"<title>{escape(title)}</title>",
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">'
             f"{escape(title)}</text>"]
    for row, vy in enumerate(hm.ys):
        top = _TOP + row * _CELL_H
        parts.append(f'<text class="ylabel" x="{_LEFT - 6}" y="{top + _CELL_H / 2 + 4}" '
                     f'text-anchor="end">{escape(str(vy))}</text>')
        for col, vx in enumerate(hm.xs):
            value = hm.values[row][col]
            left = _LEFT + col * _CELL_W
            fill = "#d9d9d9" if value is None else _colour(value, low, high, higher)
            # white on the darkest blues, dark ink elsewhere (contrast ratio > 4.5 both ways)
            ink = "#ffffff" if value is not None and _position(value, low, high, higher) > 0.8 \
                else "#111111"
            parts.append(f'<rect class="cell" x="{left}" y="{top}" width="{_CELL_W}" '
                         f'height="{_CELL_H}" fill="{fill}" stroke="#ffffff"><title>'
                         f"{escape(f'{hm.x}={vx}, {hm.y}={vy}: {_shown(value)}')}</title></rect>")
            parts.append(f'<text x="{left + _CELL_W / 2}" y="{top + _CELL_H / 2 + 4}" '
                         f'text-anchor="middle" fill="{ink}">{escape(_shown(value))}</text>')
    axis_y = _TOP + _CELL_H * len(hm.ys)
    for col, vx in enumerate(hm.xs):
        parts.append(f'<text class="xlabel" x="{_LEFT + col * _CELL_W + _CELL_W / 2}" '
                     f'y="{axis_y + 16}" text-anchor="middle">{escape(str(vx))}</text>')
    parts += [f'<text x="{_LEFT + _CELL_W * len(hm.xs) / 2}" y="{axis_y + 40}" '
              f'text-anchor="middle" font-size="12">{escape(hm.x)}</text>',
              f'<text x="16" y="{_TOP + _CELL_H * len(hm.ys) / 2}" text-anchor="middle" '
              f'font-size="12" transform="rotate(-90 16 {_TOP + _CELL_H * len(hm.ys) / 2})">'
              f"{escape(hm.y)}</text>", "</svg>"]
    return "\n".join(parts)


def heatmap_text(hm: Heatmap) -> str:
    """The heatmap as a fixed-width table: rows are `y` values, columns `x` values."""
    head = [f"{hm.y} \\ {hm.x}", *(str(v) for v in hm.xs)]
    rows = [[str(vy), *(_shown(v) for v in hm.values[i])] for i, vy in enumerate(hm.ys)]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    lines = ["  ".join(cell.rjust(widths[c]) for c, cell in enumerate(r)) for r in [head, *rows]]
    note = f"{hm.metric}" + (" (best over the other parameters)" if hm.folded else "")
    return "\n".join([note, *lines])


def _ranked_rows(result: SweepResult, limit: int) -> list[str]:
    names = list(result.points[0].params) if result.points else []
    head = "".join(f"<th>{escape(h)}</th>" for h in ["rank", *names, result.spec.rank,
                                                     "total_return", "trades"])
    rows = [f'<table id="ranked"><thead><tr>{head}</tr></thead><tbody>']
    for i, p in enumerate(result.points[:limit]):
        cells = [str(i + 1), *(str(p.params[n]) for n in names), _shown(p.value(result.spec.rank)),
                 _shown(p.value("total_return")), str(p.trades)]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table>")
    return rows


def sweep_html(result: SweepResult, axes: Sequence[str] = (), *, limit: int = 100) -> str:
    """The sweep's page: the heatmap when `axes` names two parameters, then the ranked points."""
    spec = result.spec
    title = f"Sweep: {spec.strategy} {', '.join(spec.symbols)} by {spec.rank}"
    body = [f"<h1>{escape(title)}</h1>",
            f'<p class="note">{len(result.points):,} points ({len(result.skipped):,} skipped as '
            f"invalid) on the {escape(result.executor)} executor in {result.wall_s:.2f} s; "
            f"{'higher' if RANK_METRICS[spec.rank] else 'lower'} {escape(spec.rank)} is "
            "better.</p>"]
    if len(axes) == 2:
        hm = heatmap_of(result, axes[0], axes[1])
        body += ["<h2>Heatmap</h2>", heatmap_svg(hm)]
        if hm.folded:
            body.append('<p class="note">Other parameters vary too: each cell shows the best '
                        "point with that pair.</p>")
    body += [f"<h2>Ranked points (top {min(limit, len(result.points))})</h2>",
             *_ranked_rows(result, limit)]
    style = ("body { font-family: sans-serif; margin: 1.5em; color: #222; } table { "
             "border-collapse: collapse; font-size: 0.9em; } th, td { border: 1px solid #ccc; "
             "padding: 3px 8px; } th { background: #f3f3f3; } .note { color: #555; }")
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
                      f"<title>{escape(title)}</title>", f"<style>{style}</style>", "</head>",
                      "<body>", *body, "</body>", "</html>", ""])
