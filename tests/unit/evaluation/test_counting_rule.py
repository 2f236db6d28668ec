"""The counted-submission rule (`evaluation.counting.decide`): which submission and evaluation count for a team,
as of a cut-off. Case tables for each clause of the rule, then properties over random histories."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.counting import (
    EVALUATING,
    FAILED,
    NONE,
    PENDING,
    SCORED,
    Candidate,
    Choice,
    Decision,
    Run,
    decide,
    submission_state,
)
from scoring.config import CHOSEN_OR_LATEST_SCORED, LATEST_SCORED

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def sub(submission_id: int, accepted: float, *runs: Run) -> Candidate:
    return Candidate(submission_id, at(accepted), tuple(runs))


def finished(evaluation_id: int, hours: float) -> Run:
    return Run(evaluation_id, "finished", at(hours))


def failed(evaluation_id: int, hours: float, retrying: bool = False) -> Run:
    return Run(evaluation_id, "failed", at(hours), retrying)


def running(evaluation_id: int) -> Run:
    return Run(evaluation_id, "running", None)


V1 = sub(1, 0, finished(10, 2))  # accepted at hour 0, scored at hour 2


def test_a_team_without_an_accepted_submission_has_nothing():
    assert decide([], [], None) == Decision(NONE)


def test_the_only_scored_submission_counts_with_its_evaluation():
    assert decide([V1], [], None) == Decision(SCORED, 1, 10)


def test_a_newer_submission_being_evaluated_leaves_the_older_score_standing_and_is_noted():
    assert decide([V1, sub(2, 5, running(20))], [], None) == Decision(SCORED, 1, 10, False, 2, EVALUATING)


def test_a_newer_submission_not_yet_queued_is_being_evaluated_too():
    assert decide([V1, sub(2, 5)], [], None) == Decision(SCORED, 1, 10, False, 2, EVALUATING)


def test_a_newer_submission_whose_evaluation_failed_never_replaces_a_scored_one():
    assert decide([V1, sub(2, 5, failed(20, 6))], [], None) == Decision(SCORED, 1, 10, False, 2, FAILED)


def test_a_failure_with_a_retry_due_is_still_being_evaluated():
    assert decide([V1, sub(2, 5, failed(20, 6, retrying=True))], [], None).newer_state == EVALUATING


def test_a_cancelled_evaluation_is_settled_without_a_score():
    assert decide([V1, sub(2, 5, Run(20, "cancelled", at(6)))], [], None).newer_state == FAILED


def test_the_latest_scored_submission_counts_by_default():
    assert decide([V1, sub(2, 5, finished(20, 7))], [], None) == Decision(SCORED, 2, 20)


def test_the_counted_evaluation_of_a_submission_is_the_latest_that_finished():
    twice = sub(1, 0, finished(10, 2), finished(11, 9), failed(12, 12))
    assert decide([twice], [], None).evaluation_id == 11


def test_a_team_chooses_an_older_scored_submission():
    both = [V1, sub(2, 5, finished(20, 7))]
    assert decide(both, [Choice(1, at(8))], None) == Decision(SCORED, 1, 10, chosen=True)


def test_a_later_choice_of_nothing_returns_to_the_latest_scored_submission():
    both = [V1, sub(2, 5, finished(20, 7))]
    assert decide(both, [Choice(1, at(8), 1), Choice(None, at(9), 2)], None) == Decision(SCORED, 2, 20)


def test_choices_at_the_same_moment_are_ordered_by_id():
    both = [V1, sub(2, 5, finished(20, 7))]
    assert decide(both, [Choice(None, at(8), 2), Choice(1, at(8), 1)], None).submission_id == 2


def test_a_choice_of_a_submission_without_a_score_falls_back_to_the_latest_scored():
    assert decide([V1, sub(2, 5, failed(20, 6))], [Choice(2, at(8))], None).submission_id == 1


def test_where_teams_do_not_choose_their_choices_are_ignored():
    both = [V1, sub(2, 5, finished(20, 7))]
    assert decide(both, [Choice(1, at(8))], None, LATEST_SCORED) == Decision(SCORED, 2, 20)


def test_as_of_a_cut_off_only_what_existed_then_counts():
    history = [V1, sub(2, 5, finished(20, 7)), sub(3, 9, running(30))]
    assert decide(history, [], at(6)) == Decision(SCORED, 1, 10, False, 2, EVALUATING)
    assert decide(history, [], at(8)) == Decision(SCORED, 2, 20)
    assert decide(history, [], at(1)) == Decision(PENDING, 1)
    assert decide(history, [], at(-1)) == Decision(NONE)


def test_a_choice_made_after_the_cut_off_changes_nothing_as_of_it():
    both = [V1, sub(2, 5, finished(20, 7))]
    assert decide(both, [Choice(1, at(10))], at(9)) == Decision(SCORED, 2, 20)
    assert decide(both, [Choice(1, at(10))], at(11)).submission_id == 1


def test_an_evaluation_that_failed_after_the_cut_off_was_still_running_at_it():
    assert decide([sub(1, 0, failed(10, 5))], [], at(3)) == Decision(PENDING, 1)
    assert decide([sub(1, 0, failed(10, 5))], [], at(6)) == Decision(FAILED, 1)


def test_without_a_score_the_latest_submission_being_evaluated_is_pending():
    history = [sub(1, 0, failed(10, 1)), sub(2, 2, running(20)), sub(3, 3, failed(30, 4))]
    assert decide(history, [], None) == Decision(PENDING, 2)


def test_when_every_evaluation_failed_the_latest_submission_is_named():
    assert decide([sub(1, 0, failed(10, 1)), sub(2, 2, failed(20, 3))], [], None) == Decision(FAILED, 2)


def test_an_undated_submission_counts_live_but_not_as_of_a_cut_off():
    undated = Candidate(1, None, (Run(10, "finished", None),))
    assert decide([undated], [], None) == Decision(SCORED, 1, 10)
    assert decide([undated], [], at(100)) == Decision(NONE)


@pytest.mark.parametrize(
    "runs, state",
    [
        ((), (EVALUATING, None)),
        ((running(1),), (EVALUATING, None)),
        ((failed(1, 1),), (FAILED, None)),
        ((failed(1, 1), finished(2, 2)), (SCORED, 2)),
        ((failed(1, 1, retrying=True),), (EVALUATING, None)),
    ],
)
def test_each_submission_state(runs, state):
    assert submission_state(runs, None) == state


# ------------------------------------------------------------------------------------------------ properties

STATES = ("queued", "running", "finished", "failed", "cancelled")


@st.composite
def histories(draw):
    """A team's submissions (accepted at random hours, each with up to three runs), choices and a cut-off."""
    candidates = []
    for i in range(draw(st.integers(0, 5))):
        accepted = draw(st.integers(0, 40))
        runs = []
        for j in range(draw(st.integers(0, 3))):
            state = draw(st.sampled_from(STATES))
            ended = None if state in ("queued", "running") else at(accepted + draw(st.integers(0, 20)))
            runs.append(Run(100 * i + j, state, ended, state == "failed" and draw(st.booleans())))
        candidates.append(Candidate(i + 1, at(accepted), tuple(runs)))
    ids = [c.submission_id for c in candidates] + [None]
    choices = [
        Choice(draw(st.sampled_from(ids)), at(draw(st.integers(0, 60))), k) for k in range(draw(st.integers(0, 3)))
    ]
    as_of = draw(st.none() | st.integers(0, 60).map(at))
    return candidates, choices, as_of


def _scored(candidates, as_of):
    return {
        c.submission_id
        for c in candidates
        if submission_state(c.runs, as_of)[0] == SCORED and (as_of is None or c.accepted_at <= as_of)
    }


@settings(max_examples=400)
@given(histories(), st.sampled_from([CHOSEN_OR_LATEST_SCORED, LATEST_SCORED]))
def test_a_team_is_scored_exactly_when_one_of_its_submissions_is_and_only_a_scored_one_counts(history, rule):
    candidates, choices, as_of = history
    decision = decide(candidates, choices, as_of, rule)
    scored = _scored(candidates, as_of)
    assert (decision.status == SCORED) == bool(scored)
    if decision.status == SCORED:
        assert decision.submission_id in scored and decision.evaluation_id is not None


@settings(max_examples=400)
@given(histories(), st.integers(41, 50))
def test_a_newer_submission_that_failed_never_changes_what_counts(history, accepted):
    candidates, choices, as_of = history
    before = decide(candidates, choices, as_of)
    broken = Candidate(99, at(accepted), (Run(9999, "failed", at(accepted)),))
    after = decide([*candidates, broken], choices, as_of)
    if before.status == SCORED:
        assert (after.status, after.submission_id, after.evaluation_id) == (
            SCORED,
            before.submission_id,
            before.evaluation_id,
        )


@settings(max_examples=300)
@given(histories())
def test_without_choices_the_latest_scored_submission_counts(history):
    candidates, _, as_of = history
    scored = [c for c in candidates if c.submission_id in _scored(candidates, as_of)]
    decision = decide(candidates, [], as_of)
    if scored:
        latest = max(scored, key=lambda c: (c.accepted_at, c.submission_id))
        assert decision.submission_id == latest.submission_id and not decision.chosen
