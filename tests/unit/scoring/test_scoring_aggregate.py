"""The benchmark score over the suite and the final score."""

import math
from datetime import datetime, timezone

import pytest

from scoring.aggregate import (
    BenchmarkScore,
    FinalScore,
    TaskResult,
    benchmark_score,
    final_score,
    score_entry,
)
from scoring.config import ScoreWeights, TaskSpec
from scoring.rubric import JudgesScore

SUITE = (
    TaskSpec("arc", "arc_challenge", 25, "acc_norm", weight=2.0, baseline=0.25),
    TaskSpec("boolq", "boolq", 0, "acc", weight=1.0, baseline=0.5),
    TaskSpec("gsm", "gsm8k", 5, "exact_match", weight=1.0, baseline=0.0, hidden=True),
)
RESULTS = {
    "arc": TaskResult(0.625, 0.015),  # (0.625 - 0.25) / 0.75 = 0.5, se 0.015 / 0.75 = 0.02
    "boolq": TaskResult(0.8, 0.01),  # (0.8 - 0.5) / 0.5 = 0.6, se 0.01 / 0.5 = 0.02
    "gsm": TaskResult(0.3, 0.01),  # baseline 0: 0.3, se 0.01
}
WEIGHTS = ScoreWeights(benchmark=0.6, judges=0.4)


def test_the_benchmark_score_is_the_weighted_mean_of_normalised_tasks_with_its_stderr():
    score = benchmark_score(SUITE, RESULTS)
    # W = 2 + 1 + 1 = 4; (2 * 0.5 + 1 * 0.6 + 1 * 0.3) / 4 = 1.9 / 4 = 0.475
    assert score.value == pytest.approx(0.475)
    # sqrt((2/4 * 0.02)^2 + (1/4 * 0.02)^2 + (1/4 * 0.01)^2)
    #   = sqrt(0.0001 + 0.000025 + 0.00000625) = sqrt(0.00013125) = 0.011456
    assert score.stderr == pytest.approx(math.sqrt(0.00013125))
    assert score.complete is True
    assert score.missing_tasks == ()
    assert [name for name, _ in score.tasks] == ["arc", "boolq", "gsm"]


def test_an_entry_missing_a_task_is_scored_over_the_tasks_it_has_and_marked_incomplete():
    score = benchmark_score(SUITE, {k: v for k, v in RESULTS.items() if k != "gsm"})
    # W = 3; (2 * 0.5 + 1 * 0.6) / 3 = 1.6 / 3 = 0.53333
    assert score.value == pytest.approx(1.6 / 3)
    # sqrt((2/3 * 0.02)^2 + (1/3 * 0.02)^2) = sqrt(0.00017778 + 0.00004444) = 0.014907
    assert score.stderr == pytest.approx(math.sqrt((2 / 3 * 0.02) ** 2 + (1 / 3 * 0.02) ** 2))
    assert score.complete is False
    assert score.missing_tasks == ("gsm",)


def test_one_task_without_a_stderr_leaves_the_benchmark_stderr_unknown():
    results = dict(RESULTS, gsm=TaskResult(0.3, None))
    score = benchmark_score(SUITE, results)
    assert score.value == pytest.approx(0.475)
    assert score.stderr is None


def test_an_entry_with_no_results_has_no_benchmark_score():
    assert benchmark_score(SUITE, {}) is None


def test_results_for_tasks_outside_the_suite_are_ignored():
    results = dict(RESULTS, mmlu=TaskResult(0.99, 0.001))
    assert benchmark_score(SUITE, results) == benchmark_score(SUITE, RESULTS)


def test_the_final_score_weights_benchmark_and_judges_and_combines_their_stderrs():
    final = final_score(BenchmarkScore(0.5, 0.03), JudgesScore(0.75, 0.05, 3), WEIGHTS)
    # 0.6 * 0.5 + 0.4 * 0.75 = 0.3 + 0.3 = 0.6
    assert final.value == pytest.approx(0.6)
    # sqrt((0.6 * 0.03)^2 + (0.4 * 0.05)^2) = sqrt(0.000324 + 0.0004) = sqrt(0.000724) = 0.026907
    assert final.stderr == pytest.approx(math.sqrt(0.000724))


def test_there_is_no_final_score_before_judging_is_in():
    assert final_score(BenchmarkScore(0.5, 0.03), None, WEIGHTS) is None


def test_a_single_judge_leaves_the_final_stderr_unknown():
    final = final_score(BenchmarkScore(0.5, 0.03), JudgesScore(0.75, None, 1), WEIGHTS)
    assert final.value == pytest.approx(0.6)
    assert final.stderr is None


def test_a_challenge_without_judges_uses_the_benchmark_score_as_the_final_score():
    final = final_score(BenchmarkScore(0.5, 0.03), None, ScoreWeights(benchmark=1.0, judges=0.0))
    assert final == FinalScore(0.5, pytest.approx(0.03))


def test_scoring_an_entry_end_to_end_exposes_both_benchmark_and_final_scores():
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    entry = score_entry("team-a", SUITE, RESULTS, JudgesScore(0.75, 0.05, 3), WEIGHTS, submitted_at=when)
    # 0.6 * 0.475 + 0.4 * 0.75 = 0.285 + 0.3 = 0.585
    assert entry.final.value == pytest.approx(0.585)
    assert entry.score("benchmark_score")[0] == pytest.approx(0.475)
    assert entry.complete is True
    assert entry.submitted_at == when
