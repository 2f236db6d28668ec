"""Paired comparisons of two runs: hand-computed cases, refusals, reproducibility, and the numbers against
slow reference formulas (property tests)."""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.aggregate import TaskResult, benchmark_score
from scoring.config import TaskSpec
from scoring.paired import NotComparable, TaskItems, align, challenge_scales, compare_runs

HASH = "a" * 64


def items(values, task="t", metric="acc", task_hash=HASH, ids=None, item_hashes=None):
    ids = list(range(len(values))) if ids is None else ids
    return TaskItems.of(
        task, metric, dict(zip(ids, values)), task_hash, None if item_hashes is None else dict(zip(ids, item_hashes))
    )


def compare(a, b, **kwargs):
    kwargs.setdefault("resamples", 2_000)
    return compare_runs({a.task: a}, {b.task: b}, run_a="run-a", run_b="run-b", **kwargs)


def test_all_items_equal_give_no_difference_and_p_one():
    result = compare(items([1, 0, 1, 1]), items([1, 0, 1, 1]))
    task = result.tasks["t"]
    assert (task.n, task.a, task.b, task.difference, task.se, task.ci95, task.p_value) == (
        4,
        0.75,
        0.75,
        0.0,
        0.0,
        (0.0, 0.0),
        1.0,
    )
    assert "McNemar (0 items right in A only, 0 in B only)" in task.method
    assert result.overall.difference == 0.0 and result.overall.p_value == 1.0


def test_one_discordant_item_is_no_evidence():
    task = compare(items([1, 1, 0, 1, 0]), items([1, 1, 0, 0, 0])).tasks["t"]
    assert task.difference == pytest.approx(0.2) and task.p_value == 1.0
    assert task.se == pytest.approx(math.sqrt(0.2) / math.sqrt(5))  # d = (0,0,0,1,0): sd = sqrt(1/5)
    assert "1 items right in A only, 0 in B only" in task.method


def test_twenty_items_right_in_one_run_only_are_significant_by_mcnemar():
    task = compare(items([1] * 20 + [0] * 5), items([0] * 20 + [0] * 5)).tasks["t"]
    assert task.p_value == 2 / 2**20 and task.difference == pytest.approx(0.8)


def test_runs_with_no_item_in_common_are_refused():
    with pytest.raises(NotComparable, match="no item in common"):
        compare(items([1, 0], ids=[0, 1]), items([1, 0], ids=[2, 3]))


def test_only_the_items_both_runs_have_are_compared():
    result = compare(items([1, 1, 0, 1], ids=[0, 1, 2, 3]), items([0, 1, 0], ids=[1, 2, 3]))
    task = result.tasks["t"]
    assert task.n == 3 and task.a == pytest.approx(2 / 3) and task.b == pytest.approx(1 / 3)
    assert any("compared on the 3 items both runs have (A has 4, B has 3)" in note for note in result.notes)


def test_differing_task_hashes_are_refused_with_a_reason():
    with pytest.raises(NotComparable, match="task hashes differ"):
        compare(items([1, 0]), items([1, 0], task_hash="b" * 64))


def test_differing_task_hashes_with_other_documents_are_refused():
    with pytest.raises(NotComparable, match="1 of the 2 shared items are other documents or targets"):
        compare(items([1, 0], item_hashes=["x", "y"]), items([1, 0], task_hash="b" * 64, item_hashes=["x", "z"]))


def test_differing_task_hashes_with_the_same_documents_and_targets_are_compared_and_noted():
    a = items([1, 0, 1], item_hashes=["x", "y", "z"])
    b = items([1, 1, 1], task_hash="b" * 64, item_hashes=["x", "y", "z"])
    result = compare(a, b)
    assert result.tasks["t"].n == 3
    assert any("every shared item has the same document and target" in note for note in result.notes)


def test_different_metrics_are_refused():
    with pytest.raises(NotComparable, match="run A reports acc, run B acc_norm"):
        compare(items([1]), items([1], metric="acc_norm"))


def test_a_task_only_one_run_has_is_refused():
    with pytest.raises(NotComparable, match="task u: only run B has it"):
        compare_runs({"t": items([1])}, {"t": items([1]), "u": items([1], task="u")}, run_a="a", run_b="b")


def test_a_non_binary_metric_uses_the_exact_sign_flip_test():
    a, b = items([0.9, 0.5, 0.7, 0.2], metric="f1"), items([0.4, 0.5, 0.3, 0.4], metric="f1")
    task = compare(a, b).tasks["t"]
    d = [0.5, 0.0, 0.4, -0.2]  # three non-zero differences, 8 sign patterns; |sum| >= 0.7 for four of them:
    assert task.p_value == pytest.approx(4 / 8)  # 0.5+0.4-0.2, 0.5+0.4+0.2 and their negatives
    assert task.difference == pytest.approx(statistics.mean(d))
    assert task.se == pytest.approx(statistics.stdev(d) / 2)
    assert "sign-flip permutation (exact, every sign pattern)" in task.method


binary = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=60)
graded = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=40)


@given(binary | graded)
@settings(max_examples=80, deadline=None)
def test_difference_and_standard_error_match_the_textbook_formulas(pairs):
    a, b = [float(x) for x, _ in pairs], [float(y) for _, y in pairs]
    task = compare(items(a, metric="m"), items(b, metric="m"), resamples=200).tasks["t"]
    d = [x - y for x, y in pairs]
    assert task.difference == pytest.approx(statistics.fmean(a) - statistics.fmean(b), abs=1e-12)
    assert task.se == pytest.approx(statistics.stdev(d) / math.sqrt(len(d)), abs=1e-12)
    assert task.ci95[0] <= task.ci95[1] and min(d) - 1e-12 <= task.ci95[0] and task.ci95[1] <= max(d) + 1e-12
    assert 0.0 < task.p_value <= 1.0


@given(binary)
@settings(max_examples=50, deadline=None)
def test_swapping_the_runs_mirrors_every_number(pairs):
    a, b = items([x for x, _ in pairs]), items([y for _, y in pairs])
    forward = compare_runs({"t": a}, {"t": b}, run_a="x", run_b="y", resamples=300)
    backward = compare_runs({"t": b}, {"t": a}, run_a="y", run_b="x", resamples=300)
    f, r = forward.tasks["t"], backward.tasks["t"]
    assert (r.a, r.b, r.difference, r.ci95, r.p_value) == (f.b, f.a, -f.difference, (-f.ci95[1], -f.ci95[0]), f.p_value)
    assert backward.overall.ci95 == (-forward.overall.ci95[1], -forward.overall.ci95[0])


def test_the_same_inputs_and_seed_give_the_same_numbers_and_another_seed_other_draws():
    rng = np.random.default_rng(2)
    a, b = items(list(rng.random(200)), metric="f1"), items(list(rng.random(200)), metric="f1")
    first, again, other = compare(a, b, seed=1), compare(a, b, seed=1), compare(a, b, seed=2)
    assert first.tasks == again.tasks and first.overall == again.overall
    assert other.tasks["t"].ci95 != first.tasks["t"].ci95 and other.seed == 2 and first.resamples == 2_000


def test_choosing_fewer_tasks_changes_no_tasks_numbers():
    a = {"t": items([1, 0, 1, 1, 0, 1]), "u": items([0.2, 0.4, 0.9], task="u", metric="f1")}
    b = {"t": items([0, 0, 1, 1, 1, 0]), "u": items([0.1, 0.5, 0.3], task="u", metric="f1")}
    both = compare_runs(a, b, run_a="a", run_b="b", resamples=500)
    alone = compare_runs({"t": a["t"]}, {"t": b["t"]}, run_a="a", run_b="b", resamples=500)
    assert both.tasks["t"] == alone.tasks["t"]


def test_on_many_items_the_bootstrap_interval_matches_the_normal_approximation():
    rng = np.random.default_rng(4)
    truth = rng.random(20_000) < 0.6
    a = truth.astype(float)
    b = np.where(rng.random(20_000) < 0.85, a, 1 - a)  # correlated errors, like two real models
    task = compare(items(list(a)), items(list(b)), resamples=10_000).tasks["t"]
    low, high = task.difference - 1.959964 * task.se, task.difference + 1.959964 * task.se
    assert task.ci95[0] == pytest.approx(low, abs=0.05 * (high - low))
    assert task.ci95[1] == pytest.approx(high, abs=0.05 * (high - low))


suite_tasks = st.lists(
    st.tuples(
        st.floats(0.1, 3.0),
        st.sampled_from([0.0, 0.25, 0.5]),
        st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=30),
    ),
    min_size=1,
    max_size=4,
)


@given(suite_tasks)
@settings(max_examples=60, deadline=None)
def test_the_overall_scores_are_the_challenges_benchmark_scores(tasks):
    suite = [TaskSpec(f"t{i}", f"t{i}", 0, "acc", weight, baseline) for i, (weight, baseline, _) in enumerate(tasks)]
    a = {f"t{i}": items([x for x, _ in p], task=f"t{i}") for i, (_, _, p) in enumerate(tasks)}
    b = {f"t{i}": items([y for _, y in p], task=f"t{i}") for i, (_, _, p) in enumerate(tasks)}
    result = compare_runs(a, b, run_a="a", run_b="b", scales=challenge_scales(suite, sorted(a)), resamples=200)
    score_a = benchmark_score(suite, {t: TaskResult(float(np.mean(v.values))) for t, v in a.items()}).value
    score_b = benchmark_score(suite, {t: TaskResult(float(np.mean(v.values))) for t, v in b.items()}).value
    assert result.overall.a == pytest.approx(score_a, abs=1e-12)
    assert result.overall.b == pytest.approx(score_b, abs=1e-12)
    assert result.overall.difference == pytest.approx(score_a - score_b, abs=1e-12)


def test_the_overall_standard_error_is_the_delta_method_over_independent_tasks():
    a = {"t": items([1, 1, 0, 1, 0, 1]), "u": items([1, 0, 1, 1], task="u")}
    b = {"t": items([0, 1, 0, 1, 1, 0]), "u": items([0, 0, 1, 0], task="u")}
    suite = [TaskSpec("t", "t", 0, "acc", 1.0, 0.25), TaskSpec("u", "u", 0, "acc", 3.0, 0.5)]
    result = compare_runs(a, b, run_a="a", run_b="b", scales=challenge_scales(suite, ["t", "u"]), resamples=500)
    # both runs are above chance in t (4/6 and 3/6 > 0.25); in u run B (1/4) is below chance: clipped, slope 0
    var_t = (0.25 / 0.75) ** 2 * statistics.variance([1, 0, 0, 0, -1, 1]) / 6
    var_u = statistics.variance([(0.75 / 0.5) * x for x in [1, 0, 1, 1]]) / 4
    assert result.overall.se == pytest.approx(math.sqrt(var_t + var_u))
    assert result.overall.p_value == pytest.approx(
        math.erfc(abs(result.overall.difference) / result.overall.se / math.sqrt(2))
    )


def test_a_task_outside_the_suite_is_refused():
    with pytest.raises(NotComparable, match="task x: not in the challenge's suite"):
        challenge_scales([TaskSpec("t", "t", 0, "acc", 1.0, 0.25)], ["x"])


def test_alignment_keeps_doc_id_order():
    aligned = align(items([0.1, 0.2, 0.3], ids=[7, 3, 5]), items([1.0, 2.0, 3.0], ids=[5, 7, 3]))
    assert list(aligned.doc_ids) == [3, 5, 7]
    assert list(aligned.a) == [0.2, 0.3, 0.1] and list(aligned.b) == [3.0, 1.0, 2.0]
