"""A team chooses which of its evaluated submissions counts (issue 17, item 21): on its submissions page and over
the API, for its own submissions only, until the board freezes, audited; the board follows the choice, and a
choice made after the freeze never changes the frozen board."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlmodel import select

from app.accounts.models import Role
from tests.helpers import bearer, csrf_token, sign_in

NOW = datetime.now(timezone.utc)


@pytest.fixture
def teams(db, make_user, challenge):
    """Alpha (alice): v1 and v2 scored, v3 being evaluated, v4 failed. Bravo (bob): b1 scored."""
    from app.accounts.models import User
    from app.accounts.services import issue_token
    from app.challenges.services import get_challenge
    from app.teams.services import register_team

    ids = {name: make_user(f"{name}@example.eu") for name in ("alice", "bob")}
    ids["org"] = make_user("org@example.eu", Role.organiser)
    with db() as session:
        found = get_challenge(session, challenge)
        alpha = register_team(session, session.get(User, ids["alice"]), found, "Alpha")
        bravo = register_team(session, session.get(User, ids["bob"]), found, "Bravo")
        w = SimpleNamespace(slug=challenge, challenge_id=found.id, alpha=alpha.id, bravo=bravo.id, users=ids)
        w.v1 = _submission(session, w, alpha.id, "Alpha v1", 4, "finished")
        w.v2 = _submission(session, w, alpha.id, "Alpha v2", 3, "finished")
        w.v3 = _submission(session, w, alpha.id, "Alpha v3", 2, "running")
        w.v4 = _submission(session, w, alpha.id, "Alpha v4", 1, "failed")
        w.b1 = _submission(session, w, bravo.id, "Bravo v1", 4, "finished")
        w.api = {
            name: {"Authorization": "Bearer " + issue_token(session, session.get(User, ids[name]), "t")[1]}
            for name in ("alice", "bob")
        }
    return w


def _submission(session, w, team_id: int, label: str, days: int, state: str) -> int:
    from app.checkpoints.models import Submission, SubmissionStatus
    from evaluation.models import Evaluation, TaskResult

    sub = Submission(
        challenge_id=w.challenge_id,
        team_id=team_id,
        submitted_by_id=w.users["alice"],
        label=label,
        source="hub",
        status=SubmissionStatus.accepted,
        accepted_at=NOW - timedelta(days=days),
        licence_verdict="pass",
    )
    session.add(sub)
    session.flush()
    ended = None if state == "running" else NOW - timedelta(days=days) + timedelta(hours=2)
    ev = Evaluation(challenge_id=w.challenge_id, team_id=team_id, submission_id=sub.id, state=state, finished_at=ended)
    session.add(ev)
    session.flush()
    if state == "finished":
        session.add(TaskResult(evaluation_id=ev.id, task="arc_challenge", metric="acc_norm", value=0.5, stderr=0.01))
    return sub.id


def _choose(client, w, submission_id):
    page = client.get(f"/c/{w.slug}/submissions").get_data(as_text=True)
    return client.post(
        f"/c/{w.slug}/submissions/counted",
        data={"submission_id": "" if submission_id is None else str(submission_id), "csrf_token": csrf_token(page)},
    )


def _board_row(client, db, w, team: str) -> dict:
    from leaderboard.services import refresh_all

    with db() as session:
        refresh_all(session)
    rows = client.get(f"/api/v1/leaderboard?challenge={w.slug}").get_json()["rows"]
    return next(row for row in rows if row["team"] == team)


def _events(db, action: str) -> list:
    from app.audit.models import AuditEvent

    with db() as session:
        return [
            (e.actor_id, e.subject_id, e.details)
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        ]


def test_by_default_the_latest_scored_submission_counts_and_a_newer_one_never_replaces_it(client, db, teams):
    row = _board_row(client, db, teams, "Alpha")
    assert (row["submission_id"], row["chosen"], row["newer"]) == (teams.v2, False, "failed")
    assert row["reasons"][0] == "the evaluation of a newer submission, Alpha v4, failed"


def test_a_team_chooses_an_older_evaluated_submission_on_its_page_and_the_board_follows(client, db, teams):
    sign_in(client, "alice@example.eu")
    page = client.get(f"/c/{teams.slug}/submissions").get_data(as_text=True)
    assert "Which submission counts" in page and "Count this one" in page
    response = _choose(client, teams, teams.v1)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "this submission counts for your team" in page and "(your choice)" in page
    [(actor, subject, details)] = _events(db, "submission.counted_chosen")
    assert (actor, subject, details["label"]) == (teams.users["alice"], str(teams.v1), "Alpha v1")
    row = _board_row(client, db, teams, "Alpha")
    assert (row["submission_id"], row["chosen"]) == (teams.v1, True) and "chosen by the team" in row["reasons"]


def test_the_choice_form_needs_its_csrf_token(client, teams):
    sign_in(client, "alice@example.eu")
    assert client.post(f"/c/{teams.slug}/submissions/counted", data={"submission_id": teams.v1}).status_code == 400


def test_only_an_evaluated_submission_can_count_and_the_refusal_says_why(client, teams):
    api = f"/api/v1/challenges/{teams.slug}/counted"
    for sub, label in ((teams.v3, "Alpha v3"), (teams.v4, "Alpha v4")):
        refused = client.post(api, json={"submission_id": sub}, headers=teams.api["alice"])
        assert refused.status_code == 409
        assert (
            refused.get_json()["detail"] == f"{label} has no finished evaluation: only an evaluated submission "
            "can count."
        )
    sign_in(client, "alice@example.eu")
    page = _choose(client, teams, teams.v3)
    assert page.status_code == 409 and "has no finished evaluation" in page.get_data(as_text=True)


def test_another_teams_submission_is_not_found_on_the_page_or_the_api(client, teams):
    api = f"/api/v1/challenges/{teams.slug}/counted"
    assert client.post(api, json={"submission_id": teams.b1}, headers=teams.api["alice"]).status_code == 404
    too_large = client.post(api, json={"submission_id": 10**12}, headers=teams.api["alice"])
    assert too_large.status_code == 422 and "submission_id" in too_large.get_json()["errors"]
    sign_in(client, "alice@example.eu")
    assert _choose(client, teams, teams.b1).status_code == 404
    assert _choose(client, teams, 10**12).status_code == 404


def test_null_returns_to_the_latest_scored_submission(client, db, teams):
    api = f"/api/v1/challenges/{teams.slug}/counted"
    chosen = client.post(api, json={"submission_id": teams.v1}, headers=teams.api["alice"]).get_json()
    assert (chosen["counted"]["submission_id"], chosen["chosen_submission_id"]) == (teams.v1, teams.v1)
    back = client.post(api, json={"submission_id": None}, headers=teams.api["alice"]).get_json()
    assert (back["counted"]["submission_id"], back["counted"]["chosen"]) == (teams.v2, False)
    assert back["submissions"] == {
        str(teams.v1): "scored",
        str(teams.v2): "scored",
        str(teams.v3): "evaluating",
        str(teams.v4): "failed",
    }
    assert [subject for _, subject, _ in _events(db, "team.counted_default")] == [str(teams.alpha)]


def test_after_the_freeze_the_choice_is_refused_and_a_late_choice_never_changes_the_frozen_board(client, db, teams):
    from app.challenges.models import Challenge
    from evaluation.models import CountedChoice
    from leaderboard.services import freeze

    with db() as session:
        freeze(session, session.get(Challenge, teams.challenge_id), NOW - timedelta(minutes=1), teams.users["org"])
    api = f"/api/v1/challenges/{teams.slug}/counted"
    refused = client.post(api, json={"submission_id": teams.v1}, headers=teams.api["alice"])
    assert refused.status_code == 409 and refused.get_json()["detail"].startswith("The board froze on ")
    with db() as session:  # a choice that slipped in after the freeze (as a concurrent request might)
        session.add(
            CountedChoice(
                challenge_id=teams.challenge_id,
                team_id=teams.alpha,
                submission_id=teams.v1,
                chosen_by_id=teams.users["alice"],
                chosen_at=NOW,
            )
        )
    assert _board_row(client, db, teams, "Alpha")["submission_id"] == teams.v2
    state = client.get(api, headers=teams.api["alice"]).get_json()
    assert (state["frozen"]["submission_id"], state["counted"]["submission_id"]) == (teams.v2, teams.v1)
    assert state["can_choose"] is False and state["why_not"].startswith("The board froze on ")


def test_where_the_latest_scored_submission_counts_teams_cannot_choose(client, db, teams):
    from app.challenges.models import Challenge
    from app.challenges.services import load_config_text

    with db() as session:
        text = session.get(Challenge, teams.challenge_id).config_text
        load_config_text(
            session,
            text.replace('counted_submission = "chosen_or_latest_scored"', 'counted_submission = "latest_scored"'),
        )
    refused = client.post(
        f"/api/v1/challenges/{teams.slug}/counted", json={"submission_id": teams.v1}, headers=teams.api["alice"]
    )
    assert refused.status_code == 409 and "teams do not choose" in refused.get_json()["detail"]
    assert _board_row(client, db, teams, "Alpha")["submission_id"] == teams.v2


def test_judges_and_organisers_do_not_choose_for_a_team(client, make_user, db, teams):
    for email, role in (("j@example.eu", Role.judge), ("o2@example.eu", Role.organiser)):
        headers = bearer(client, make_user, db, email, role)
        answer = client.post(
            f"/api/v1/challenges/{teams.slug}/counted", json={"submission_id": teams.v1}, headers=headers
        )
        assert answer.status_code == 403
