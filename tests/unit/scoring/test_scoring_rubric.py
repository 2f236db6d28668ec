"""The judges' rubric: validating score sheets and the judges' score."""

import math

import pytest

from scoring.rubric import Criterion, Rubric, judges_score, validate_rubric_scores, weighted_rubric_score

RUBRIC = Rubric(
    (
        Criterion("technical", "Technical excellence", 0.5, 0, 10, ((0, "none"), (10, "best"))),
        Criterion("impact", "Impact", 0.3, 0, 10, ((0, "none"), (10, "best"))),
        Criterion("openness", "Openness", 0.2, 1, 5, ((1, "closed"), (5, "open"))),
    )
)


def test_a_complete_sheet_within_the_scales_is_valid():
    assert validate_rubric_scores(RUBRIC, {"technical": 8, "impact": 5, "openness": 3}) == []


def test_a_sheet_reports_missing_out_of_scale_unknown_and_fractional_scores():
    errors = validate_rubric_scores(RUBRIC, {"technical": 11, "openness": 3.5, "charisma": 7})
    assert errors == [
        "technical: score 11 is outside the scale 0-10",
        "impact: missing score for 'Impact'",
        "openness: score must be a whole number, got 3.5",
        "charisma: not a criterion of this rubric",
    ]


def test_a_score_below_a_scale_that_starts_at_one_is_out_of_scale():
    errors = validate_rubric_scores(RUBRIC, {"technical": 0, "impact": 0, "openness": 0})
    assert errors == ["openness: score 0 is outside the scale 1-5"]


def test_true_is_not_accepted_as_a_score():
    errors = validate_rubric_scores(RUBRIC, {"technical": True, "impact": 0, "openness": 1})
    assert errors == ["technical: score must be a whole number, got True"]


def test_a_sheet_is_the_weighted_mean_of_criteria_each_rescaled_to_zero_to_one():
    # 0.5 * 8/10 + 0.3 * 5/10 + 0.2 * (3-1)/(5-1) = 0.4 + 0.15 + 0.1 = 0.65
    assert weighted_rubric_score(RUBRIC, {"technical": 8, "impact": 5, "openness": 3}) == pytest.approx(0.65)


def test_the_lowest_and_highest_sheets_score_zero_and_one():
    assert weighted_rubric_score(RUBRIC, {"technical": 0, "impact": 0, "openness": 1}) == 0.0
    assert weighted_rubric_score(RUBRIC, {"technical": 10, "impact": 10, "openness": 5}) == pytest.approx(1.0)


def test_an_invalid_sheet_cannot_be_scored():
    with pytest.raises(ValueError, match="impact: missing score"):
        weighted_rubric_score(RUBRIC, {"technical": 8, "openness": 3})


def test_the_judges_score_is_the_mean_over_judges_with_the_standard_error_of_the_mean():
    sheets = [
        {"technical": 8, "impact": 5, "openness": 3},  # 0.4 + 0.15 + 0.1 = 0.65
        {"technical": 4, "impact": 5, "openness": 3},  # 0.2 + 0.15 + 0.1 = 0.45
        {"technical": 6, "impact": 5, "openness": 3},  # 0.3 + 0.15 + 0.1 = 0.55
    ]
    score = judges_score(RUBRIC, sheets)
    # mean 0.55; sample variance (0.1^2 + 0.1^2 + 0) / 2 = 0.01, sd 0.1; se 0.1 / sqrt(3) = 0.05774
    assert score.value == pytest.approx(0.55)
    assert score.stderr == pytest.approx(0.1 / math.sqrt(3))
    assert score.n_judges == 3
    assert score.per_judge == pytest.approx((0.65, 0.45, 0.55))


def test_one_judge_gives_a_judges_score_without_a_standard_error():
    score = judges_score(RUBRIC, [{"technical": 8, "impact": 5, "openness": 3}])
    assert (score.value, score.stderr, score.n_judges) == (pytest.approx(0.65), None, 1)


def test_there_is_no_judges_score_before_any_judge_has_scored():
    assert judges_score(RUBRIC, []) is None


def test_the_anchor_text_is_found_by_score():
    assert RUBRIC.criteria[2].anchor_text(5) == "open"
    assert RUBRIC.criteria[2].anchor_text(3) is None
