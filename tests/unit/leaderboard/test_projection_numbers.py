"""The projection's number helpers against the library functions they stand in for (on random data)."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from leaderboard.projection import _histogram, _quartiles
from scoring.fast import six

scores = st.floats(min_value=0.0, max_value=1.5) | st.sampled_from([0.0, 0.1, 0.3, 0.7, 0.9, 1.0, 1.2])


@given(st.lists(scores, min_size=1, max_size=60))
def test_quartiles_are_the_inclusive_quantiles_of_the_statistics_module(values):
    ordered = sorted(values)
    expected = (ordered[0],) * 3 if len(ordered) == 1 else tuple(statistics.quantiles(ordered, n=4, method="inclusive"))
    assert _quartiles(ordered) == expected


@given(st.lists(scores, max_size=60))
def test_the_histogram_counts_each_value_in_bin_int_value_times_ten(values):
    expected = [0] * 10
    for value in values:
        expected[min(int(value * 10), 9)] += 1
    assert _histogram(sorted(values)) == expected


def test_the_histogram_puts_values_on_an_edge_in_the_upper_bin():
    assert _histogram([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]) == [1, 1, 1, 1, 0, 1, 0, 1, 0, 2]


@given(st.floats(min_value=0.0, max_value=2.0))
def test_six_rounds_to_the_nearest_millionth_and_prints_at_most_six_decimals(number):
    rounded = six(number)
    assert abs(rounded - number) <= 5e-7 + 1e-15
    assert rounded == round(rounded, 6)
    text = repr(rounded)
    assert "e" in text or len(text.split(".")[1]) <= 6


def test_six_agrees_with_round_away_from_exact_halves():
    for number in (0.0, 0.1234564, 0.1234566, 0.5, 0.999999, 0.9999996, 1.0, 0.3333333333):
        assert six(number) == round(number, 6)


@given(
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=1.0), st.none() | st.floats(min_value=0.0, max_value=0.1)),
        min_size=1,
        max_size=6,
    )
)
def test_the_display_columns_of_the_cells_are_the_normalised_numbers_rounded_by_six(results):
    from scoring import ScoreWeights, TaskSpec
    from scoring.fast import CELL, entry_scores, suite_specs, weight_shares

    suite = [TaskSpec(f"t{i}", f"t{i}", 0, "acc", 1.0, 0.25, False) for i in range(len(results))]
    entry = {
        "team": "T",
        "is_baseline": False,
        "submitted_at": None,
        "results": {f"t{i}": result for i, result in enumerate(results)},
    }
    specs = suite_specs(suite)
    _, flat = entry_scores(entry, specs, ScoreWeights(1.0, 0.0), None, weight_shares(specs))
    for at in range(0, len(flat), CELL):
        normalised, se, shown, shown_se = flat[at + 2], flat[at + 3], flat[at + 4], flat[at + 5]
        assert shown == six(normalised) and shown_se == (None if se is None else six(se))


def test_a_score_column_sorts_best_first_on_the_first_click_and_turns_round_on_the_next():
    from leaderboard.query import BoardQuery, next_order

    assert [next_order(BoardQuery(), key) for key in ("score", "final", "task.boolq", "team", "parameters")] == [
        "desc",
        "desc",
        "desc",
        "asc",
        "asc",
    ]
    assert next_order(BoardQuery(), "rank") == "desc"  # already sorted by rank, best first: the other way
    assert next_order(BoardQuery(sort="score", order="desc"), "score") == "asc"
