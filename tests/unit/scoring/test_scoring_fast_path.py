"""The board's fast paths against the pure definitions they replace, on random data (no database).

`scoring.fast.fast_scores` must give exactly the floats `scoring.score_entry` gives, and the ranking's
statistical ties (found by spans, not by testing every pair) must be exactly the pairs `_within_stderr`
accepts, listing the nearest ones by position.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import JudgesScore, RankingPolicy, ScoreWeights, TaskResult, TaskSpec, rank_entries, score_entry
from scoring.aggregate import BenchmarkScore, EntryScores
from scoring.fast import EMPTY_CELL, fast_scores
from scoring.ranking import _within_stderr

ODD_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, True, "0.5", None])
values = st.floats(min_value=0.0, max_value=1.0) | st.integers(min_value=0, max_value=1) | ODD_NUMBERS
raw_stderrs = st.none() | st.floats(min_value=-0.01, max_value=0.1) | ODD_NUMBERS


@st.composite
def scored_entries(draw):
    """A suite, one entry's results over part of it (some broken), a judges' score and the weights."""
    size = draw(st.integers(min_value=1, max_value=8))
    suite = tuple(
        TaskSpec(
            f"t{i}",
            f"t{i}",
            0,
            "acc",
            draw(st.floats(min_value=0.1, max_value=5.0)),
            draw(st.floats(min_value=0.0, max_value=0.99)),
            draw(st.booleans()),
        )
        for i in range(size)
    )
    results = {task.name: (draw(values), draw(raw_stderrs)) for task in suite if draw(st.booleans())}
    judges = draw(
        st.none()
        | st.builds(
            JudgesScore,
            st.floats(min_value=0.0, max_value=1.0),
            st.none() | st.floats(min_value=0.0, max_value=0.2),
            st.just(3),
        )
    )
    weights = ScoreWeights(*draw(st.sampled_from([(1.0, 0.0), (0.7, 0.3), (0.0, 1.0), (0.5, 0.5)])))
    entry = {
        "team": "Team",
        "team_id": 1,
        "is_baseline": draw(st.booleans()),
        "submitted_at": datetime(2024, 5, 1),
        "results": results,
    }
    return suite, entry, judges, weights


def _finite(number) -> bool:
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)


@settings(max_examples=400)
@given(scored_entries())
def test_the_fast_scores_are_exactly_the_pure_scoring_functions_scores(case):
    suite, entry, judges, weights = case
    results = {
        task: TaskResult(value, stderr if _finite(stderr) and stderr >= 0 else None)
        for task, (value, stderr) in entry["results"].items()
        if _finite(value)
    }
    expected = score_entry(
        "Team", suite, results, judges, weights, is_baseline=entry["is_baseline"], submitted_at=entry["submitted_at"]
    )
    got, cells = fast_scores(entry, suite, weights, judges)
    if expected.benchmark is None:
        assert got.benchmark is None
    else:
        bench, exp = got.benchmark, expected.benchmark
        assert (bench.value, bench.stderr, bench.complete, bench.missing_tasks) == (
            exp.value,
            exp.stderr,
            exp.complete,
            exp.missing_tasks,
        )
    assert (got.final, got.judges, got.is_baseline, got.submitted_at, got.complete) == (
        expected.final,
        expected.judges,
        expected.is_baseline,
        expected.submitted_at,
        expected.complete,
    )
    normalised = dict(expected.benchmark.tasks) if expected.benchmark else {}
    for task, cell in zip(suite, cells):
        score = normalised.get(task.name)
        if score is None:
            assert cell == EMPTY_CELL
        else:
            assert cell[0] == score.raw and cell[1] is entry["results"][task.name][1]
            assert (cell[2], cell[3]) == (score.value, score.stderr)


@st.composite
def boards(draw):
    """Entries with close scores (many statistical ties), some incomplete, some without a stderr or score."""
    n = draw(st.integers(min_value=1, max_value=40))
    entries = []
    for i in range(n):
        value = draw(st.none() | st.floats(min_value=0.4, max_value=0.6))
        se = draw(st.none() | st.floats(min_value=0.0, max_value=0.05) | st.sampled_from([0.01, 0.02]))
        complete = draw(st.booleans()) if draw(st.integers(0, 4)) == 0 else True
        benchmark = None if value is None else BenchmarkScore(value, se, complete, () if complete else ("t1",))
        entries.append(
            EntryScores(
                f"e{i:02d}",
                benchmark,
                is_baseline=draw(st.integers(0, 9)) == 0,
                submitted_at=datetime(2024, 5, 1) + timedelta(hours=draw(st.integers(0, 5))),
            )
        )
    return entries, draw(st.none() | st.integers(min_value=0, max_value=6))


@settings(max_examples=300)
@given(boards())
def test_statistical_ties_are_exactly_the_pairs_within_their_combined_standard_error(board):
    entries, limit = board
    ranking = rank_entries(entries, RankingPolicy(), "benchmark_score", max_listed_ties=limit)
    by_id = {entry.entry_id: entry for entry in entries}
    order = [row.entry_id for row in ranking]
    for i, row in enumerate(ranking):
        tied = [
            j
            for j, other in enumerate(order)
            if j != i and _within_stderr(by_id[row.entry_id], by_id[other], "benchmark_score") is not None
        ]
        assert row.statistically_tied_count == len(tied)
        nearest = tied if limit is None else sorted(sorted(tied, key=lambda j: abs(j - i))[:limit])
        assert row.statistically_tied_with == tuple(order[j] for j in nearest)
