"""Properties of normalisation, aggregation and ranking that must hold for any input."""

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scoring.aggregate import BenchmarkScore, EntryScores, FinalScore, TaskResult, benchmark_score
from scoring.config import TIE_BREAK_KEYS, RankingPolicy, TaskSpec
from scoring.normalise import normalise
from scoring.ranking import rank_entries
from scoring.rubric import JudgesScore

unit = st.floats(min_value=0.0, max_value=1.0)
baselines = st.floats(min_value=0.0, max_value=0.99)
stderrs = st.none() | st.floats(min_value=0.0, max_value=0.1)


@given(value=unit, baseline=baselines, stderr=stderrs)
def test_a_normalised_score_lies_between_zero_and_one_for_values_between_zero_and_one(value, baseline, stderr):
    score = normalise(value, baseline, stderr)
    assert 0.0 <= score.value <= 1.0 + 1e-12
    assert (score.stderr is None) == (stderr is None)


@given(st.lists(st.tuples(unit, baselines, st.floats(min_value=0.1, max_value=5.0)), min_size=1, max_size=8))
def test_the_benchmark_score_lies_between_the_lowest_and_highest_task_scores(tasks):
    suite = [TaskSpec(f"t{i}", f"t{i}", 0, "acc", weight, baseline) for i, (_, baseline, weight) in enumerate(tasks)]
    results = {f"t{i}": TaskResult(value, 0.01) for i, (value, _, _) in enumerate(tasks)}
    score = benchmark_score(suite, results)
    task_values = [task_score.value for _, task_score in score.tasks]
    assert min(task_values) - 1e-9 <= score.value <= max(task_values) + 1e-9


@st.composite
def entry_lists(draw):
    """Unique entries with optional scores, stderrs, judges' scores and submission times."""
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=8, unique=True))
    start = datetime(2024, 5, 1)
    entries = []
    for entry_id in ids:
        final = draw(st.none() | st.sampled_from([0.2, 0.5, 0.5, 0.8]) | unit)
        se = draw(stderrs)
        entries.append(
            EntryScores(
                entry_id=entry_id,
                benchmark=BenchmarkScore(draw(unit), se, complete=draw(st.booleans())),
                judges=draw(st.none() | st.builds(JudgesScore, st.sampled_from([0.3, 0.6]), st.none(), st.just(3))),
                final=None if final is None else FinalScore(final, se),
                is_baseline=draw(st.booleans()),
                submitted_at=draw(st.none() | st.integers(0, 3).map(lambda d: start + timedelta(days=d))),
            )
        )
    return entries


policies = st.builds(
    RankingPolicy,
    tie_break=st.lists(st.sampled_from(TIE_BREAK_KEYS), unique=True).map(tuple),
    break_ties_by_entry_id=st.booleans(),
)
keys = st.sampled_from(["final_score", "benchmark_score", "judges_score"])


@given(entries=entry_lists(), policy=policies, key=keys)
def test_a_ranking_lists_every_entry_exactly_once(entries, policy, key):
    ranking = rank_entries(entries, policy, key)
    assert sorted(row.entry_id for row in ranking) == sorted(entry.entry_id for entry in entries)
    assert [row.position for row in ranking] == list(range(1, len(entries) + 1))


@given(entries=entry_lists(), policy=policies, key=keys)
def test_baselines_and_unscored_entries_never_get_a_rank(entries, policy, key):
    for row in rank_entries(entries, policy, key):
        assert (row.rank is None) == (row.is_baseline or row.score is None)
        assert row.reasons


@given(entries=entry_lists(), policy=policies, pick=st.integers(min_value=0), raise_by=st.floats(0.001, 1.0))
def test_raising_one_entrys_final_score_never_lowers_its_rank(entries, policy, pick, raise_by):
    ranked = [e for e in entries if not e.is_baseline and e.final is not None]
    if not ranked:
        return
    chosen = ranked[pick % len(ranked)]
    raised = replace(chosen, final=replace(chosen.final, value=chosen.final.value + raise_by))
    before = {row.entry_id: row.rank for row in rank_entries(entries, policy)}
    after_entries = [raised if e is chosen else e for e in entries]
    after = {row.entry_id: row.rank for row in rank_entries(after_entries, policy)}
    assert after[chosen.entry_id] <= before[chosen.entry_id]


@given(entries=entry_lists(), policy=policies)
def test_the_ranks_do_not_depend_on_the_order_entries_arrive_in(entries, policy):
    forward = rank_entries(entries, policy)
    backward = rank_entries(list(reversed(entries)), policy)
    assert {r.entry_id: r.rank for r in forward} == {r.entry_id: r.rank for r in backward}
    if policy.break_ties_by_entry_id:
        assert [r.entry_id for r in forward] == [r.entry_id for r in backward]
