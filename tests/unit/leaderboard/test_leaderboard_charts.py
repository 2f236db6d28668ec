"""The board's SVG charts are drawn for the width they get: no viewBox (which would shrink their text on a
phone), horizontal positions in percent, every label escaped and the chart named for screen readers."""

from __future__ import annotations

import re

from leaderboard import charts

TASKS = ["arc_easy", "hellaswag<script>", "boolq"]


def _profile(scores=(0.5, 0.9, None)) -> str:
    return charts.task_profile(TASKS, list(scores), [0.02, 0.01, None], [0.4, 0.6, None], "Aurora & Co")


def test_a_chart_has_no_view_box_so_its_text_keeps_the_stylesheets_size_at_any_width():
    for svg in (
        _profile(),
        charts.distribution(TASKS, [None] * 3),
        charts.timeline(
            [{"at": "2026-01-0%dT10:00" % d, "best": 0.5, "median": 0.4, "best_so_far": 0.5, "n": 2} for d in (1, 2)]
        ),
    ):
        assert "viewBox" not in svg and 'width="100%"' in svg
        assert not re.search(r"font-size", svg)


def test_bars_are_placed_in_percent_of_the_width_and_clipped_to_the_axis():
    svg = _profile(scores=(0.5, 1.7, None))
    assert 'width="50.00%"' in svg and 'width="100.00%"' in svg
    assert re.findall(r'<rect x="0" y="\d+" width="([\d.]+)%"', svg) == ["50.00", "100.00"]


def test_a_task_without_a_result_says_so_in_words():
    assert "no result" in _profile()


def test_labels_are_escaped_and_the_chart_is_named():
    svg = _profile()
    assert "hellaswag&lt;script&gt;" in svg and "<script>" not in svg
    assert '<title id="task-profile-t">Task profile of Aurora &amp; Co</title>' in svg
    assert 'aria-labelledby="task-profile-t task-profile-d"' in svg and 'role="img"' in svg


def test_the_timeline_names_one_date_when_every_point_is_on_the_same_day():
    point = {"at": "2026-01-02T10:00", "best": 0.5, "median": 0.4, "best_so_far": 0.5, "n": 3}
    svg = charts.timeline([point, {**point, "at": "2026-01-02T18:00"}])
    assert svg.count(">2026-01-02<") == 1
    assert charts.timeline([]) == ""
