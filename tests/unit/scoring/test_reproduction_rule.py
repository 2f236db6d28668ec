"""The cross-site reproduction rule: equal where the pair is deterministic, else within the combined standard
error; and when it blocks the award."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scoring.reproduction import (
    Comparison,
    Measured,
    ReproductionState,
    RunFacts,
    award_block,
    compare,
    compare_task,
    differences,
)

FACTS = RunFacts(
    lock_sha256="a" * 64,
    dtype="bfloat16",
    backend="vllm",
    batch_size="8",
    seeds={"random_seed": 0},
    gpu_model="4 x NVIDIA H100",
    task_hashes={"arc": "h1", "gsm": "h2"},
)


def test_runs_with_the_same_software_dtype_batch_seeds_gpu_and_task_hash_are_deterministic_replicas():
    assert differences(FACTS, FACTS) == []
    result = compare({"arc": Measured(0.5, 0.01)}, {"arc": Measured(0.5, 0.01)}, FACTS, FACTS)
    assert result.agrees and result.tasks[0].deterministic


def test_a_deterministic_pair_must_be_equal_to_the_last_digit():
    result = compare({"arc": Measured(0.5, 0.01)}, {"arc": Measured(0.5000001, 0.01)}, FACTS, FACTS)
    assert not result.agrees and "deterministic run must be equal" in result.tasks[0].why


@pytest.mark.parametrize(
    "change, words",
    [
        ({"gpu_model": "4 x NVIDIA A100"}, "different GPU model"),
        ({"lock_sha256": "b" * 64}, "different software"),
        ({"lock_sha256": None}, "unknown"),
        ({"dtype": "float16"}, "different dtype"),
        ({"batch_size": "16"}, "different batch size"),
    ],
)
def test_any_difference_in_the_setup_makes_the_comparison_statistical(change, words):
    other = replace(FACTS, **change)
    assert any(words in why for why in differences(FACTS, other))
    result = compare({"arc": Measured(0.50, 0.03)}, {"arc": Measured(0.54, 0.04)}, FACTS, other)
    assert result.agrees and not result.tasks[0].deterministic and result.tasks[0].tolerance == pytest.approx(0.05)


def test_a_gap_beyond_the_combined_standard_error_is_a_discrepancy():
    line = compare_task("arc", Measured(0.50, 0.03), Measured(0.56, 0.04), deterministic=False)
    assert not line.agrees and "outside the combined standard error" in line.why
    assert line.difference == pytest.approx(0.06)


def test_a_changed_task_hash_is_compared_statistically_for_that_task_only():
    other = replace(FACTS, task_hashes={"arc": "h1", "gsm": "changed"})
    result = compare(
        {"arc": Measured(0.5, 0.01), "gsm": Measured(0.3, 0.02)},
        {"arc": Measured(0.5, 0.01), "gsm": Measured(0.31, 0.02)},
        FACTS,
        other,
    )
    assert [(t.task, t.deterministic, t.agrees) for t in result.tasks] == [("arc", True, True), ("gsm", False, True)]


def test_without_a_standard_error_the_values_must_be_equal_and_a_missing_task_never_agrees():
    assert not compare_task("em", Measured(0.5), Measured(0.51), deterministic=False).agrees
    assert compare_task("em", Measured(0.5), Measured(0.5), deterministic=False).agrees
    result = compare({"arc": Measured(0.5, 0.01)}, {}, FACTS, FACTS)
    assert not result.agrees and result.tasks[0].why == "no result in the reproduction"
    assert not Comparison((), ()).agrees  # nothing compared is nothing reproduced


def _state(agrees: bool | None, reproduction_id=7, pending=False, resolved=()):
    if agrees is None:
        return ReproductionState(None, None, pending, tuple(resolved))
    line = compare_task("arc", Measured(0.5, 0.01), Measured(0.5 if agrees else 0.9, 0.01), False)
    return ReproductionState(Comparison((line,), ("different GPU model",)), reproduction_id, pending, tuple(resolved))


def test_the_award_waits_for_an_agreeing_reproduction_of_each_winner():
    assert award_block("Team A", _state(True)) is None
    assert "no reproduction at another site yet" in award_block("Team A", _state(None))
    assert "under way" in award_block("Team A", _state(None, pending=True))
    assert "differs (arc)" in award_block("Team A", _state(False))


def test_an_organisers_resolution_lifts_the_block_only_for_the_situation_it_resolved():
    assert award_block("Team A", _state(False, resolved=(7,))) is None
    assert award_block("Team A", _state(None, resolved=(None,))) is None
    assert award_block("Team A", _state(False, reproduction_id=8, resolved=(7, None))) is not None
