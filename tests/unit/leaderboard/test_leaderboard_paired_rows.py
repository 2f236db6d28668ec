"""The board's paired comparisons from per-item values (no database): each ranked row against the next, the
texts' inputs for distinguishable and indistinguishable neighbours, a row without kept per-item results, and
the scorecard's view of them (the entry above mirrored)."""

from __future__ import annotations

import numpy as np

from leaderboard.paired import Pair, compare_pairs, scorecard_comparisons
from scoring.config import TaskSpec
from scoring.paired import TaskItems

SUITE = [TaskSpec("arc", "arc", 0, "acc", 1.0, 0.25), TaskSpec("boolq", "boolq", 0, "acc", 1.0, 0.5)]
N = 400


def run(right: int, seed: int) -> dict:
    out = {}
    for k, spec in enumerate(SUITE):
        values = np.zeros(N)
        values[np.random.default_rng(seed * 10 + k).permutation(N)[:right]] = 1
        out[spec.name] = TaskItems(spec.name, "acc", np.arange(N), values, task_hash=f"h-{spec.name}")
    return out


def rows(*names: str) -> list[dict]:
    return [
        {"position": i + 1, "team_id": i + 1, "team": name, "rank": i + 1, "is_baseline": False}
        for i, name in enumerate(names)
    ]


def test_a_clear_gap_is_distinguishable_and_one_item_is_not():
    board = rows("A", "B", "C")
    close = run(250, 2)
    near = {
        t: TaskItems(
            t, "acc", x.doc_ids, np.where(np.arange(N) == np.argmax(x.values), 0.0, x.values), task_hash=x.task_hash
        )
        for t, x in close.items()
    }  # one right item turned wrong
    items = {1: run(340, 1), 2: close, 3: near}
    first, second = compare_pairs([Pair(board[0], board[1]), Pair(board[1], board[2])], items, SUITE)
    assert first["team"] == "B" and first["distinguishable"] is True and first["p"] < 0.001
    assert second["team"] == "C" and second["distinguishable"] is False and second["p"] > 0.05
    assert second["ci95"][0] < second["difference"] < second["ci95"][1]


def test_a_row_without_kept_per_item_results_is_not_compared_and_says_why():
    board = rows("A", "B")
    [result] = compare_pairs(
        [Pair(board[0], board[1])], {1: run(300, 1), 2: "recorded before samples were kept"}, SUITE
    )
    assert result == {"team_id": 2, "team": "B", "unavailable": "B: recorded before samples were kept"}


def test_the_scorecard_shows_the_entry_above_mirrored_the_entry_below_and_the_baselines():
    above = {
        "team_id": 1,
        "team": "A",
        "paired": {
            "next": {
                "team_id": 2,
                "team": "B",
                "difference": 0.1,
                "ci95": [0.05, 0.15],
                "p": 0.001,
                "distinguishable": True,
            },
            "baselines": [],
        },
    }
    me = {
        "team_id": 2,
        "team": "B",
        "paired": {
            "next": {"team_id": 3, "team": "C", "unavailable": "no samples"},
            "baselines": [
                {
                    "team_id": 9,
                    "team": "Ref",
                    "difference": 0.2,
                    "ci95": [0.1, 0.3],
                    "p": 0.0001,
                    "distinguishable": True,
                }
            ],
        },
    }
    shown = scorecard_comparisons([above, me], me)
    assert [(c["team"], c["relation"]) for c in shown] == [
        ("A", "the entry above"),
        ("C", "the entry below"),
        ("Ref", "baseline"),
    ]
    assert shown[0]["difference"] == -0.1 and shown[0]["ci95"] == [-0.15, -0.05]
    assert scorecard_comparisons([above, me], {"team_id": 5, "team": "X", "paired": None}) == []
