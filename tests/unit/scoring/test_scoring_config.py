"""Reading the [scoring] and [[benchmark.tasks]] sections of a challenge TOML."""

import copy
import tomllib

import pytest

from scoring.config import (
    DEFAULT_2024_TOML,
    ConfigError,
    RankingPolicy,
    ScoreWeights,
    ScoringConfig,
    TaskSpec,
    parse_benchmark_tasks,
)

BENCHMARK_TOML = """
[[benchmark.tasks]]
name = "arc_challenge"
lm_eval_task = "arc_challenge"
num_fewshot = 25
metric = "acc_norm"
weight = 1.0
baseline = 0.25

[[benchmark.tasks]]
name = "belebele_eu"
lm_eval_task = "belebele"
num_fewshot = 0
metric = "acc"
weight = 2.0
baseline = 0.25
hidden = true
"""


def _default_section():
    return tomllib.loads(DEFAULT_2024_TOML)["scoring"]


def _errors_of(section):
    with pytest.raises(ConfigError) as caught:
        ScoringConfig.from_config(section)
    return list(caught.value.errors)


def test_the_2024_defaults_weight_benchmark_sixty_and_judges_forty_percent():
    config = ScoringConfig.default_2024()
    assert config.weights == ScoreWeights(benchmark=0.6, judges=0.4)
    assert config.ranking == RankingPolicy(("judges_score", "earlier_submission"), True)


def test_the_2024_rubric_has_five_criteria_on_a_zero_to_ten_scale_with_anchors():
    rubric = ScoringConfig.default_2024().rubric
    assert rubric.criterion_ids == (
        "technical_excellence",
        "european_languages_and_impact",
        "responsible_ai",
        "feasibility_of_plan",
        "openness",
    )
    assert sum(c.weight for c in rubric.criteria) == pytest.approx(1.0)
    for criterion in rubric.criteria:
        assert (criterion.scale_min, criterion.scale_max) == (0, 10)
        assert [score for score, _ in criterion.anchors] == [0, 5, 10]


def test_weights_that_do_not_sum_to_one_are_reported_by_key():
    section = _default_section()
    section["weights"] = {"benchmark": 0.7, "judges": 0.4}
    assert _errors_of(section) == ["scoring.weights: benchmark and judges must sum to 1"]


def test_a_weight_that_is_not_a_number_names_its_key():
    section = _default_section()
    section["weights"] = {"benchmark": "0.6", "judges": 0.4, "public": 0.1}
    errors = _errors_of(section)
    assert "scoring.weights.benchmark: must be a number, got '0.6'" in errors
    assert "scoring.weights.public: unknown key" in errors


def test_an_unknown_tie_break_key_is_reported_with_its_position():
    section = _default_section()
    section["tie_break"] = ["judges_score", "team_size"]
    (error,) = _errors_of(section)
    assert error.startswith("scoring.tie_break[1]: unknown key 'team_size'")


def test_the_entry_id_tie_break_can_be_switched_off():
    section = _default_section()
    section["tie_break_by_entry_id"] = False
    assert ScoringConfig.from_config(section).ranking.break_ties_by_entry_id is False


def test_the_tie_break_chain_defaults_to_judges_then_earlier_submission():
    section = _default_section()
    del section["tie_break"], section["tie_break_by_entry_id"]
    assert ScoringConfig.from_config(section).ranking == RankingPolicy()


def test_rubric_problems_name_the_criterion_and_key():
    section = copy.deepcopy(_default_section())
    section["rubric"][0]["anchors"] = {"0": "nothing", "5": "fine"}
    section["rubric"][1]["scale"] = [10, 0]
    section["rubric"][2]["weight"] = -1
    section["rubric"][3]["id"] = "openness"
    errors = _errors_of(section)
    assert errors == [
        "scoring.rubric[0].anchors: needs an anchor for score 10 (an end of the scale)",
        "scoring.rubric[1].scale: must be [min, max] whole numbers with min < max",
        "scoring.rubric[2].weight: must be greater than 0, got -1.0",
        "scoring.rubric: criterion id 'openness' is listed more than once",
    ]


def test_rubric_weights_must_sum_to_one():
    section = copy.deepcopy(_default_section())
    section["rubric"][0]["weight"] = 0.5
    assert _errors_of(section) == ["scoring.rubric: criterion weights must sum to 1, got 1.2"]


def test_a_missing_scoring_section_reports_every_missing_part():
    assert _errors_of({}) == [
        "scoring.weights: must be a table with 'benchmark' and 'judges'",
        "scoring.rubric: must list at least one criterion",
    ]


def test_teams_choose_their_counted_submission_unless_the_challenge_says_the_latest_scored_counts():
    section = _default_section()
    assert ScoringConfig.from_config(section).teams_may_choose
    del section["counted_submission"]
    assert ScoringConfig.from_config(section).counted_submission == "chosen_or_latest_scored"
    section["counted_submission"] = "latest_scored"
    config = ScoringConfig.from_config(section)
    assert not config.teams_may_choose and "latest submission with a finished evaluation" in config.counted_rule_words


def test_an_unknown_counted_submission_rule_names_the_rules_there_are():
    section = _default_section()
    section["counted_submission"] = "best_scored"
    assert _errors_of(section) == [
        "scoring.counted_submission: unknown rule 'best_scored'; use one of chosen_or_latest_scored, latest_scored"
    ]


@pytest.mark.parametrize("name", ["lagc-2024.toml", "frontier-2026.toml"])
def test_the_bundled_challenges_state_their_counted_submission_rule(name):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "app" / "challenges" / "configs" / name).read_text()
    assert tomllib.loads(text)["scoring"]["counted_submission"] == "chosen_or_latest_scored"


def test_benchmark_tasks_are_read_from_the_toml_with_hidden_defaulting_to_false():
    tasks = parse_benchmark_tasks(tomllib.loads(BENCHMARK_TOML)["benchmark"]["tasks"])
    assert tasks == (
        TaskSpec("arc_challenge", "arc_challenge", 25, "acc_norm", 1.0, 0.25, False),
        TaskSpec("belebele_eu", "belebele", 0, "acc", 2.0, 0.25, True),
    )


def test_a_task_without_lm_eval_task_or_fewshot_uses_its_name_and_zero_shots():
    (task,) = parse_benchmark_tasks([{"name": "boolq", "metric": "acc", "baseline": 0.5}])
    assert (task.lm_eval_task, task.num_fewshot, task.weight) == ("boolq", 0, 1.0)


def test_benchmark_task_problems_name_the_task_index_and_key():
    with pytest.raises(ConfigError) as caught:
        parse_benchmark_tasks(
            [
                {"name": "arc", "metric": "acc", "baseline": 1.0},
                {"name": "arc", "metric": "", "baseline": 0.25, "num_fewshot": -1},
                {"name": "boolq", "metric": "acc", "baseline": 0.5, "hidden": "yes"},
            ]
        )
    assert caught.value.errors == (
        "benchmark.tasks[0].baseline: must be in [0, 1), got 1.0",
        "benchmark.tasks[1].metric: must be a non-empty text, got ''",
        "benchmark.tasks[1].num_fewshot: must be a whole number >= 0, got -1",
        "benchmark.tasks[2].hidden: must be true or false, got 'yes'",
    )


def test_the_same_task_listed_twice_is_an_error():
    task = {"name": "arc", "metric": "acc", "baseline": 0.25}
    with pytest.raises(ConfigError, match="'arc' is listed more than once"):
        parse_benchmark_tasks([task, dict(task)])


def test_an_empty_benchmark_suite_is_an_error():
    with pytest.raises(ConfigError, match="at least one task"):
        parse_benchmark_tasks([])
