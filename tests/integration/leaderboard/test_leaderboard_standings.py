"""Standings against hand-checked numbers: the counted evaluation, scores, ranks, baselines, ties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ._board import HIDDEN

NOW = datetime.now(timezone.utc)


def _standings(db, challenge_id, **kwargs):
    from app.challenges.models import Challenge
    from leaderboard.standings import standings

    with db() as session:
        return standings(session, session.get(Challenge, challenge_id), **kwargs)


def seed_hand_checked(board):
    """B 0.6, A 0.5, baseline 0.4, C 0.0, D incomplete (1.0 on the two tasks it has)."""
    se = 0.02
    board.entry("Team A", {"arc_easy": (0.625, se), "boolq": (0.75, se), HIDDEN: (0.625, se)})
    board.entry(
        "Team B",
        {"arc_easy": (0.85, se), "boolq": (0.9, se), HIDDEN: (0.4, se)},
        parameters=40_000_000_000,
        licence="review",
        cluster="leonardo",
    )
    board.entry("Reference", {"arc_easy": (0.55, se), "boolq": (0.7, se), HIDDEN: (0.55, se)}, baseline=True)
    board.entry("Team C", {"arc_easy": (0.25, se), "boolq": (0.5, se), HIDDEN: (0.25, se)}, licence="fail")
    board.entry("Team D", {"arc_easy": (1.0, se), "boolq": (1.0, se)}, parameters=None, licence=None)


def test_entries_are_ranked_by_benchmark_score_with_baselines_listed_but_unranked(db, board):
    seed_hand_checked(board)
    result = _standings(db, board.challenge_id)
    got = [(row.team, row.rank, round(row.benchmark_score, 6)) for row in result.rows]
    assert got == [
        ("Team B", 1, 0.6),
        ("Team A", 2, 0.5),
        ("Reference", None, 0.4),
        ("Team C", 3, 0.0),
        ("Team D", 4, 1.0),
    ]
    b = result.rows[0]
    assert b.benchmark_stderr == pytest.approx((1 / 3) * ((0.02 / 0.75) ** 2 * 2 + (0.02 / 0.5) ** 2) ** 0.5)
    assert [cell.normalised for cell in b.tasks] == pytest.approx([0.8, 0.8, 0.2])
    assert (b.parameters, b.licence_verdict, b.cluster) == (40_000_000_000, "review", "leonardo")
    d = result.rows[-1]
    assert not d.complete and d.missing_tasks == (HIDDEN,)
    assert any("incomplete entries rank after complete ones" in reason for reason in d.reasons)


def test_the_counted_evaluation_is_the_latest_of_the_latest_accepted_submission(db, board):
    team = board.team("Team E")
    old = board.submission(team, "old", accepted_at=NOW - timedelta(days=3))
    board.evaluation(team, old, {"arc_easy": (0.9, 0.01)}, finished_at=NOW - timedelta(days=2))
    new = board.submission(team, "new", accepted_at=NOW - timedelta(days=1))
    board.evaluation(team, new, {"arc_easy": (0.4, 0.01)}, finished_at=NOW - timedelta(hours=5))
    board.evaluation(team, new, {"arc_easy": (0.5, 0.01)}, finished_at=NOW - timedelta(hours=2))
    row = _standings(db, board.challenge_id).rows[0]
    assert (row.submission_label, row.tasks[0].raw) == ("new", 0.5)


def test_a_newer_submission_still_being_evaluated_leaves_the_older_score_standing(db, board):
    team = board.team("Team F")
    old = board.submission(team, "old", accepted_at=NOW - timedelta(days=3))
    board.evaluation(team, old, {"arc_easy": (0.9, 0.01)}, finished_at=NOW - timedelta(days=2))
    board.submission(team, "pending", accepted_at=NOW - timedelta(hours=1))
    row = _standings(db, board.challenge_id).rows[0]
    assert (row.submission_label, row.tasks[0].raw, row.rank, row.newer) == ("old", 0.9, 1, "evaluating")
    assert row.reasons[0] == "a newer submission, pending, is being evaluated"


def test_a_team_whose_only_submission_is_being_evaluated_is_pending(db, board):
    board.submission(board.team("Team P"), "first", accepted_at=NOW - timedelta(hours=1))
    row = _standings(db, board.challenge_id).rows[0]
    assert row.benchmark_score is None and row.rank is None
    assert row.reasons[0] == "evaluation of first pending"


def test_as_of_ignores_what_finished_after_it(db, board):
    team = board.team("Team G")
    sub = board.submission(team, "m", accepted_at=NOW - timedelta(days=3))
    board.evaluation(team, sub, {"arc_easy": (0.5, 0.01)}, finished_at=NOW - timedelta(days=2))
    board.evaluation(team, sub, {"arc_easy": (0.9, 0.01)}, finished_at=NOW - timedelta(hours=1))
    frozen = _standings(db, board.challenge_id, as_of=NOW - timedelta(days=1)).rows[0]
    live = _standings(db, board.challenge_id).rows[0]
    assert (frozen.tasks[0].raw, live.tasks[0].raw) == (0.5, 0.9)


def test_entries_within_one_standard_error_are_marked_statistically_tied(db, board):
    board.entry("Close 1", {"arc_easy": (0.70, 0.05), "boolq": (0.8, 0.05), HIDDEN: (0.7, 0.05)})
    board.entry("Close 2", {"arc_easy": (0.71, 0.05), "boolq": (0.8, 0.05), HIDDEN: (0.7, 0.05)})
    rows = _standings(db, board.challenge_id).rows
    assert [row.statistically_tied_with for row in rows] == [("Close 1",), ("Close 2",)]
    assert rows[0].tie_group == rows[1].tie_group == 1 and rows[0].tied_count == 1
