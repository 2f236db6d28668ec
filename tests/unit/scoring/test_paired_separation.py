"""The board's neighbour comparisons and the prize-boundary rule: one test behind both, agreeing with the
single comparison, and each rule checked both ways."""

import json
import math

import numpy as np
import pytest

from scoring.config import TaskSpec
from scoring.paired import TaskItems, challenge_scales, compare_runs
from scoring.paired_json import dumps, report
from scoring.separation import (
    Scale,
    boundary_verdict,
    distinguishable,
    neighbours,
    prize_boundary,
    row_distinguishable,
)

SUITE = [TaskSpec("t", "t", 0, "acc", 1.0, 0.25), TaskSpec("u", "u", 0, "acc", 2.0, 0.5)]


def board(rows=6, items=400, seed=0):
    """Per-item 0/1 values of `rows` models on two tasks, better models first, errors correlated."""
    rng = np.random.default_rng(seed)
    skill = np.linspace(1.5, 0.0, rows)[:, None]
    out = {}
    for task in ("t", "u"):
        difficulty = rng.normal(0, 1.5, items)[None, :]
        out[task] = (rng.random((rows, items)) < 1 / (1 + np.exp(difficulty - skill))).astype(float)
    return out


def test_every_neighbour_comparison_equals_the_single_comparison_of_that_pair():
    matrices = board()
    scales = challenge_scales(SUITE, ["t", "u"])
    result = neighbours(matrices, scales)
    for i in range(5):
        a = {t: TaskItems(t, "acc", np.arange(400), m[i]) for t, m in matrices.items()}
        b = {t: TaskItems(t, "acc", np.arange(400), m[i + 1]) for t, m in matrices.items()}
        ids = ("a", "b") if i % 2 else ("b", "a")  # either order of the run ids (the work is done in one order)
        pair = compare_runs(a, b, run_a=ids[0], run_b=ids[1], scales=scales, resamples=200).overall
        assert (result.difference[i], result.se[i], result.p_value[i]) == (pair.difference, pair.se, pair.p_value)


def test_missing_items_are_left_out_pair_by_pair():
    matrices = board(rows=3)
    holes = {t: m.copy() for t, m in matrices.items()}
    holes["t"][1, :100] = np.nan  # row 1 lacks the first 100 items of t
    scales = challenge_scales(SUITE, ["t", "u"])
    result = neighbours(holes, scales)
    a = {
        "t": TaskItems("t", "acc", np.arange(100, 400), matrices["t"][0, 100:]),
        "u": TaskItems("u", "acc", np.arange(400), matrices["u"][0]),
    }
    b = {
        "t": TaskItems("t", "acc", np.arange(100, 400), matrices["t"][1, 100:]),
        "u": TaskItems("u", "acc", np.arange(400), matrices["u"][1]),
    }
    pair = compare_runs(a, b, run_a="a", run_b="b", scales=scales, resamples=200).overall
    assert result.p_value[0] == pytest.approx(pair.p_value, rel=1e-9)
    assert result.difference[0] == pytest.approx(pair.difference, abs=1e-12)


def test_a_row_is_distinguishable_from_the_next_one_down_only_when_p_is_below_005():
    far_apart = {"t": np.array([[1.0] * 60 + [0.0] * 40, [0.0] * 60 + [1.0] * 5 + [0.0] * 35])}
    close = {"t": np.array([[1.0] * 50 + [0.0] * 50, [1.0] * 49 + [0.0] * 51])}
    assert row_distinguishable(neighbours(far_apart, {"t": Scale(1.0)}), 0)
    assert not row_distinguishable(neighbours(close, {"t": Scale(1.0)}), 0)
    assert not row_distinguishable(neighbours(close, {"t": Scale(1.0)}), 1)  # the last row has nobody below


def test_identical_neighbours_have_p_one_and_an_undefined_test_is_not_distinguishable():
    same = neighbours({"t": np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])}, {"t": Scale(1.0)})
    assert same.p_value[0] == 1.0 and same.se[0] == 0.0
    constant = neighbours({"t": np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])}, {"t": Scale(1.0)})
    assert math.isnan(constant.p_value[0])  # every item differs by the same amount: no variance to test with
    assert not distinguishable(float(constant.p_value[0])) and not distinguishable(None)
    assert distinguishable(0.049) and not distinguishable(0.05)


def test_the_prize_boundary_is_the_last_winner_and_the_first_entry_that_does_not_win():
    order = ["w", "x", "y", "z", "v"]
    assert prize_boundary(order, 4) == ("z", "v")
    assert prize_boundary(order, 5) is None and prize_boundary(order, 0) is None


def test_a_distinguishable_prize_boundary_stands():
    verdict = boundary_verdict(["a", "b", "c"], 2, p_value=0.003, difference=0.041, ci95=(0.015, 0.067))
    assert verdict.decided and (verdict.last_winner, verdict.first_non_winner) == ("b", "c")
    assert verdict.reasons == (
        "Rank 2 (b) is distinguishable from rank 3 (c) (difference 0.0410, 95% interval 0.0150 to 0.0670, p = 0.003).",
    )


def test_an_indistinguishable_prize_boundary_needs_the_organisers_tie_break():
    verdict = boundary_verdict(["a", "b", "c"], 2, p_value=0.21, difference=0.004, ci95=(-0.01, 0.018))
    assert not verdict.decided
    assert verdict.reasons[0] == (
        "Rank 2 (b) and rank 3 (c) cannot be told apart (difference 0.0040, 95% interval "
        "-0.0100 to 0.0180, p = 0.21): p is not below 0.05."
    )
    assert "tie-break decision is needed" in verdict.reasons[1]
    assert not boundary_verdict(["a", "b"], 1, p_value=None).decided


def test_no_cut_off_needs_no_decision():
    assert boundary_verdict(["a", "b"], 4, p_value=None).decided


def test_the_json_is_byte_identical_for_the_same_inputs_and_carries_the_seed_and_resamples():
    matrices = board(rows=2)
    a = {t: TaskItems(t, "acc", np.arange(400), m[0]) for t, m in matrices.items()}
    b = {t: TaskItems(t, "acc", np.arange(400), m[1]) for t, m in matrices.items()}
    text = dumps(report(compare_runs(a, b, run_a="a", run_b="b", seed=7, resamples=500)))
    assert text == dumps(report(compare_runs(a, b, run_a="a", run_b="b", seed=7, resamples=500)))
    data = json.loads(text)
    assert data["seed"] == 7 and data["resamples"] == 500 and list(data) == sorted(data)
    assert set(data["tasks"]["t"]) == {"metric", "n", "a", "b", "difference", "se", "ci95", "p_value", "method"}
    assert set(data["overall"]) >= {"difference", "ci95", "p_value", "method"}


def test_the_json_writes_floats_with_fixed_significant_digits_and_no_nan():
    assert (
        dumps({"x": 1 / 3, "y": math.nan, "z": -0.0, "w": [2e-300]})
        == '{\n  "w": [\n    2e-300\n  ],\n  "x": 0.3333333333,\n  "y": null,\n  "z": 0.0\n}'
    )
