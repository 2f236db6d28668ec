"""Organisers submit baseline models through the same intake as entrants; entrants cannot."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.accounts.models import Role, User
from app.api.problems import status_of
from app.challenges.services import get_challenge
from app.checkpoints.models import Submission, SubmissionStatus
from app.checkpoints.services import IntakeError, create_submission
from app.organiser.services import register_baseline

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from evaluation.tinymodel import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("baseline"), seed=7)


def test_an_organiser_submits_a_baseline_that_is_validated_and_accepted(app, db, make_user, challenge, tiny_model):
    make_user("olga@example.eu", Role.organiser)
    runner = app.test_cli_runner()
    args = [
        "checkpoint",
        "submit-baseline",
        "--challenge",
        challenge,
        "--model",
        "Tiny reference",
        "--organiser",
        "olga@example.eu",
        str(tiny_model),
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with db() as session:
        submission = session.exec(select(Submission)).one()
        assert submission.status is SubmissionStatus.accepted and submission.parameters > 0
        assert submission.licence_verdict == "pass"
    again = runner.invoke(args=args)  # the same baseline team takes a second checkpoint
    assert again.exit_code == 0, again.output


def test_only_organisers_submit_for_baseline_teams(db, make_user, challenge):
    entrant_id = make_user("eve@example.eu")
    organiser_id = make_user("olga@example.eu", Role.organiser)
    with db() as session:
        found = get_challenge(session, challenge)
        team = register_baseline(session, found, "Reference", organiser_id)
        with pytest.raises(IntakeError) as refused:
            create_submission(session, session.get(User, entrant_id), found, "sneaky", baseline=team)
        assert status_of(refused.value) == 403


def test_an_unknown_challenge_or_a_non_organiser_is_refused_by_the_command(app, make_user, tiny_model):
    make_user("eve@example.eu")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "checkpoint",
            "submit-baseline",
            "--challenge",
            "nope",
            "--model",
            "X",
            "--organiser",
            "eve@example.eu",
            str(tiny_model),
        ]
    )
    assert result.exit_code != 0 and "no challenge" in result.output
