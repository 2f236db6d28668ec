"""Server-side SVG charts: an entry's task profile, the score over time, and the distribution per task.

Pure: standard library only; every text is escaped. Each chart has a <title> and <desc> (read by screen
readers); the pages also show the same numbers as a table, for those who would rather read.
Scores are normalised (0 = random chance, 1 = perfect), drawn on a fixed 0..1 axis.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Optional

_W, _ROW, _LEFT, _RIGHT = 640, 22, 170, 20


def _x(value: float, width: int = _W) -> float:
    """The x position of a normalised score on the axis, clipped to [0, 1]."""
    return _LEFT + max(0.0, min(1.0, value)) * (width - _LEFT - _RIGHT)


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> str:
    """An accessible SVG element around ``body``."""
    return (f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
            f'viewBox="0 0 {_W} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
            + "".join(body) + "</svg>")


def _axis(y: float) -> list[str]:
    """Ticks at 0, 0.25, ..., 1 along a horizontal axis at ``y``."""
    marks = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = _x(tick)
        marks.append(f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{y + 14:.1f}" text-anchor="middle" class="tick">{tick:g}</text>')
    return marks


def task_profile(tasks: Sequence[str], scores: Sequence[Optional[float]], stderrs: Sequence[Optional[float]],
                 medians: Sequence[Optional[float]], team: str) -> str:
    """Horizontal bars of an entry's normalised score per task, +-1 standard error, with the field's median."""
    height = 20 + _ROW * len(tasks) + 24
    body = _axis(height - 22)
    for i, (task, score, se, median) in enumerate(zip(tasks, scores, stderrs, medians)):
        y = 12 + i * _ROW
        body.append(f'<text x="{_LEFT - 6}" y="{y + 13}" text-anchor="end" class="label">{escape(task)}</text>')
        if score is None:
            body.append(f'<text x="{_LEFT + 4}" y="{y + 13}" class="tick">no result</text>')
        else:
            body.append(f'<rect x="{_LEFT}" y="{y + 3}" width="{_x(score) - _LEFT:.1f}" height="14" class="bar">'
                        f'<title>{escape(task)}: {score:.3f}</title></rect>')
            if se:
                body.append(f'<line x1="{_x(score - se):.1f}" y1="{y + 10}" x2="{_x(score + se):.1f}" '
                            f'y2="{y + 10}" class="err"/>')
        if median is not None:
            body.append(f'<line x1="{_x(median):.1f}" y1="{y + 1}" x2="{_x(median):.1f}" y2="{y + 19}" class="median"/>')
    desc = (f"Normalised score of {team} on each task, with one standard error either side; "
            "the dark tick marks the median entry.")
    return _frame("task-profile", f"Task profile of {team}", desc, height, body)


def distribution(tasks: Sequence[str], stats: Sequence[Optional[dict]]) -> str:
    """A box plot per task: the middle half of the entries as a box, the median as a line, min to max."""
    height = 20 + _ROW * len(tasks) + 24
    body = _axis(height - 22)
    for i, (task, box) in enumerate(zip(tasks, stats)):
        y = 12 + i * _ROW
        body.append(f'<text x="{_LEFT - 6}" y="{y + 13}" text-anchor="end" class="label">{escape(task)}</text>')
        if not box:
            continue
        body.append(
            f'<line x1="{_x(box["min"]):.1f}" y1="{y + 10}" x2="{_x(box["max"]):.1f}" y2="{y + 10}" class="err"/>'
            f'<rect x="{_x(box["q1"]):.1f}" y="{y + 3}" width="{max(_x(box["q3"]) - _x(box["q1"]), 1):.1f}" '
            f'height="14" class="box"><title>{escape(task)}: median {box["median"]:.3f}, middle half '
            f'{box["q1"]:.3f} to {box["q3"]:.3f}, {box["n"]} entries</title></rect>'
            f'<line x1="{_x(box["median"]):.1f}" y1="{y + 2}" x2="{_x(box["median"]):.1f}" y2="{y + 18}" '
            f'class="median"/>')
    desc = "For each task, the spread of the entries' normalised scores: whiskers from lowest to highest, " \
           "the box holds the middle half, the line is the median."
    return _frame("distribution", "Distribution of scores per task", desc, height, body)


def timeline(points: Sequence[dict]) -> str:
    """The best benchmark score so far (a step line) and each period's best and median (dots) over time."""
    height, top, bottom = 220, 12, 190
    if not points:
        return ""
    n = len(points)
    xs = [_LEFT / 2 + (i + 0.5) * (_W - _LEFT / 2 - _RIGHT) / n for i in range(n)]

    def y(value: float) -> float:
        return bottom - max(0.0, min(1.0, value)) * (bottom - top)

    body = [f'<line x1="{_LEFT / 2}" y1="{y(t):.1f}" x2="{_W - _RIGHT}" y2="{y(t):.1f}" class="grid"/>'
            f'<text x="{_LEFT / 2 - 6}" y="{y(t) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>'
            for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    path = " ".join(f'{"M" if i == 0 else "L"}{x:.1f},{y(p["best_so_far"]):.1f}' for i, (x, p) in enumerate(zip(xs, points)))
    body.append(f'<path d="{path}" class="line"/>')
    for x, p in zip(xs, points):
        label = escape(f'{p["at"][:10]}: best {p["best"]:.3f}, median {p["median"]:.3f}, {p["n"]} entries')
        body.append(f'<circle cx="{x:.1f}" cy="{y(p["best"]):.1f}" r="3.5" class="dot"><title>{label}</title></circle>'
                    f'<circle cx="{x:.1f}" cy="{y(p["median"]):.1f}" r="3" class="dot2"/>')
    body.append(f'<text x="{xs[0]:.1f}" y="{height - 8}" class="tick">{escape(points[0]["at"][:10])}</text>'
                f'<text x="{xs[-1]:.1f}" y="{height - 8}" text-anchor="end" class="tick">{escape(points[-1]["at"][:10])}</text>')
    desc = ("Benchmark scores of the counted evaluations by when they finished: the line is the best score so far, "
            "filled dots the best and open dots the median of each period.")
    return _frame("timeline", "Benchmark score over time", desc, height, body)
