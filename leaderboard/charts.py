"""Server-side SVG charts: an entry's task profile, the score over time, and the distribution per task.

Pure: standard library only; every text is escaped. Each chart has a <title> and <desc> (read by screen
readers); the pages also show the same numbers as a table, for those who would rather read.
Scores are normalised (0 = random chance, 1 = perfect), drawn on a fixed 0..1 axis.

The charts are drawn for the width they get: no viewBox (which would shrink the text with the chart on a
phone), horizontal positions in percent of the chart's width, vertical ones in CSS pixels. Text keeps the size
the stylesheet gives it (13 px) at any width; each task's label sits above its bar, so no column of labels
takes width from the bars. No style attribute anywhere: the stylesheet's classes draw everything (the
Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Optional

_ROW = 40  # px per task: a label line, then the bar
_LABEL = 14  # baseline of a task's label within its row
_BAR_TOP, _BAR_HEIGHT = 20, 14
_AXIS = 26  # px below the rows for the tick labels
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _pct(value: float) -> str:
    """A normalised score as a horizontal position, clipped to [0, 1]."""
    return f"{max(0.0, min(1.0, value)) * 100:.2f}%"


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> str:
    """An accessible SVG element around ``body``, as wide as its container and ``height`` CSS px tall."""
    return (
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'width="100%" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _anchor(tick: float) -> str:
    """Tick labels at the ends sit inside the chart."""
    return "start" if tick == 0 else ("end" if tick == 1 else "middle")


def _axis(top: int, bottom: int) -> list[str]:
    """Vertical grid lines at 0, 0.25, ..., 1 from ``top`` to ``bottom``, labelled below."""
    marks = []
    for tick in TICKS:
        x = _pct(tick)
        marks.append(
            f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" class="grid"/>'
            f'<text x="{x}" y="{bottom + 16}" text-anchor="{_anchor(tick)}" class="tick">{tick:g}</text>'
        )
    return marks


def _rows_height(count: int) -> int:
    return 4 + _ROW * count + _AXIS


def _label(task: str, y: int, value: Optional[str] = None) -> str:
    """A task's name above its bar, and its value at the right end of the same line."""
    text = f'<text x="0" y="{y + _LABEL}" class="label">{escape(task)}</text>'
    if value is not None:
        text += f'<text x="100%" y="{y + _LABEL}" text-anchor="end" class="tick">{escape(value)}</text>'
    return text


def task_profile(
    tasks: Sequence[str],
    scores: Sequence[Optional[float]],
    stderrs: Sequence[Optional[float]],
    medians: Sequence[Optional[float]],
    team: str,
) -> str:
    """Horizontal bars of an entry's normalised score per task, +-1 standard error, with the field's median."""
    height = _rows_height(len(tasks))
    body = _axis(4, height - _AXIS)
    for i, (task, score, se, median) in enumerate(zip(tasks, scores, stderrs, medians)):
        y = 4 + i * _ROW
        bar = y + _BAR_TOP
        body.append(_label(task, y, "no result" if score is None else f"{score:.3f}"))
        if score is not None:
            body.append(
                f'<rect x="0" y="{bar}" width="{_pct(score)}" height="{_BAR_HEIGHT}" class="bar">'
                f"<title>{escape(task)}: {score:.3f}</title></rect>"
            )
            if se:
                body.append(
                    f'<line x1="{_pct(score - se)}" y1="{bar + 7}" x2="{_pct(score + se)}" y2="{bar + 7}" class="err"/>'
                )
        if median is not None:
            body.append(
                f'<line x1="{_pct(median)}" y1="{bar - 2}" x2="{_pct(median)}" y2="{bar + _BAR_HEIGHT + 2}" '
                'class="median"/>'
            )
    desc = (
        f"Normalised score of {team} on each task, with one standard error either side; "
        "the dark tick marks the median entry."
    )
    return _frame("task-profile", f"Task profile of {team}", desc, height, body)


def distribution(tasks: Sequence[str], stats: Sequence[Optional[dict]]) -> str:
    """A box plot per task: the middle half of the entries as a box, the median as a line, min to max."""
    height = _rows_height(len(tasks))
    body = _axis(4, height - _AXIS)
    for i, (task, box) in enumerate(zip(tasks, stats)):
        y = 4 + i * _ROW
        bar = y + _BAR_TOP
        body.append(_label(task, y, None if box else "no results"))
        if not box:
            continue
        low, high = max(0.0, min(1.0, box["q1"])), max(0.0, min(1.0, box["q3"]))
        body.append(
            f'<line x1="{_pct(box["min"])}" y1="{bar + 7}" x2="{_pct(box["max"])}" y2="{bar + 7}" class="err"/>'
            f'<rect x="{_pct(low)}" y="{bar}" width="{max(high - low, 0.002) * 100:.2f}%" height="{_BAR_HEIGHT}" '
            f'class="box"><title>{escape(task)}: median {box["median"]:.3f}, middle half '
            f"{box['q1']:.3f} to {box['q3']:.3f}, {box['n']} entries</title></rect>"
            f'<line x1="{_pct(box["median"])}" y1="{bar - 1}" x2="{_pct(box["median"])}" '
            f'y2="{bar + _BAR_HEIGHT + 1}" class="median"/>'
        )
    desc = (
        "For each task, the spread of the entries' normalised scores: whiskers from lowest to highest, "
        "the box holds the middle half, the line is the median."
    )
    return _frame("distribution", "Distribution of scores per task", desc, height, body)


def timeline(points: Sequence[dict]) -> str:
    """The best benchmark score so far (a step line) and each period's best and median (dots) over time.

    The line is a polyline in percent positions, drawn as one segment per pair of points (an SVG path takes no
    percentages). The score labels sit on their grid lines at the left edge, inside the chart."""
    height, top, bottom = 220, 16, 190
    if not points:
        return ""
    n = len(points)
    xs = [4 + (i + 0.5) * 92 / n for i in range(n)]  # percent, leaving room for the score labels on the left

    def y(value: float) -> float:
        return bottom - max(0.0, min(1.0, value)) * (bottom - top)

    body = [
        f'<line x1="0" y1="{y(t):.1f}" x2="100%" y2="{y(t):.1f}" class="grid"/>'
        f'<text x="0" y="{y(t) - 3:.1f}" class="tick">{t:g}</text>'
        for t in TICKS
    ]
    best = [y(p["best_so_far"]) for p in points]
    for i in range(1, n):
        body.append(
            f'<line x1="{xs[i - 1]:.2f}%" y1="{best[i - 1]:.1f}" x2="{xs[i]:.2f}%" y2="{best[i - 1]:.1f}" '
            f'class="line"/><line x1="{xs[i]:.2f}%" y1="{best[i - 1]:.1f}" x2="{xs[i]:.2f}%" '
            f'y2="{best[i]:.1f}" class="line"/>'
        )
    for x, p in zip(xs, points):
        label = escape(f"{p['at'][:10]}: best {p['best']:.3f}, median {p['median']:.3f}, {p['n']} entries")
        body.append(
            f'<circle cx="{x:.2f}%" cy="{y(p["best"]):.1f}" r="4" class="dot"><title>{label}</title></circle>'
            f'<circle cx="{x:.2f}%" cy="{y(p["median"]):.1f}" r="3.5" class="dot2"/>'
        )
    first, last = points[0]["at"][:10], points[-1]["at"][:10]
    body.append(f'<text x="0" y="{height - 6}" class="tick">{escape(first)}</text>')
    if last != first:
        body.append(f'<text x="100%" y="{height - 6}" text-anchor="end" class="tick">{escape(last)}</text>')
    desc = (
        "Benchmark scores of the counted evaluations by when they finished: the line is the best score so far, "
        "filled dots the best and open dots the median of each period."
    )
    return _frame("timeline", "Benchmark score over time", desc, height, body)
