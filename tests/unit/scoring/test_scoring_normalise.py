"""Normalising a task's metric against its random-chance baseline."""

import math

import pytest

from scoring.normalise import normalise


def test_a_four_way_multiple_choice_score_is_rescaled_so_chance_is_zero():
    # (0.625 - 0.25) / (1 - 0.25) = 0.375 / 0.75 = 0.5; stderr 0.015 / 0.75 = 0.02
    score = normalise(0.625, baseline=0.25, stderr=0.015)
    assert score.value == pytest.approx(0.5)
    assert score.stderr == pytest.approx(0.02)
    assert score.clipped is False
    assert (score.raw, score.baseline) == (0.625, 0.25)


def test_a_score_below_chance_is_clipped_to_zero_but_keeps_its_stderr():
    # (0.2 - 0.25) / 0.75 = -0.0667 -> 0; stderr 0.03 / 0.75 = 0.04 is kept
    score = normalise(0.2, baseline=0.25, stderr=0.03)
    assert score.value == 0.0
    assert score.stderr == pytest.approx(0.04)
    assert score.clipped is True


def test_a_zero_baseline_leaves_the_value_unchanged():
    score = normalise(0.3, baseline=0.0, stderr=0.01)
    assert (score.value, score.stderr) == (pytest.approx(0.3), pytest.approx(0.01))


def test_a_perfect_score_normalises_to_one_whatever_the_baseline():
    assert normalise(1.0, baseline=0.5).value == pytest.approx(1.0)


def test_a_missing_stderr_stays_missing():
    assert normalise(0.8, baseline=0.5).stderr is None


@pytest.mark.parametrize("baseline", [1.0, 1.5, -0.1, math.nan])
def test_a_baseline_outside_zero_to_one_is_refused(baseline):
    with pytest.raises(ValueError, match="baseline"):
        normalise(0.5, baseline=baseline)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "0.5", None])
def test_a_value_that_is_not_a_finite_number_is_refused(value):
    with pytest.raises(ValueError, match="value"):
        normalise(value, baseline=0.25)


@pytest.mark.parametrize("stderr", [-0.01, math.inf, math.nan])
def test_a_negative_or_non_finite_stderr_is_refused(stderr):
    with pytest.raises(ValueError, match="stderr"):
        normalise(0.5, baseline=0.25, stderr=stderr)
