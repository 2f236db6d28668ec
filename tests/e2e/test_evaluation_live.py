"""An entrant watches their evaluation go from queued or running to finished, with its scores, without
reloading the page: the running platform's scheduler evaluates a tiny model for real with lm-eval."""
from __future__ import annotations

import shutil

import pytest
from sqlmodel import Session, select

from app.accounts.models import User
from app.challenges.models import Challenge  # noqa: F401  (the tables the submission refers to)
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus
from app.db import make_engine, utcnow
from app.teams.models import Team

pytestmark = pytest.mark.e2e
DEMO_PASSWORD = "demo-password-2026"
LABEL = "iberia-tiny (e2e live evaluation)"


@pytest.fixture
def accepted_submission(server, tmp_path_factory) -> int:
    """An accepted Iberia NLP submission of a tiny model, pinned where the intake pins checkpoints."""
    from evaluation.tinymodel import make_tiny_model

    [database] = {p.resolve() for p in tmp_path_factory.getbasetemp().glob("instance*/platform.db")}
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        team = session.exec(select(Team).where(Team.name == "Iberia NLP (PT)")).one()
        entrant = session.exec(select(User).where(User.email == "iberia@demo.lagc.eu")).one()
        submission = Submission(challenge_id=team.challenge_id, team_id=team.id, submitted_by_id=entrant.id,
                                label=LABEL, source=SubmissionSource.upload, status=SubmissionStatus.validating)
        session.add(submission)
        session.commit()
        model = make_tiny_model(tmp_path_factory.mktemp("e2e-model"), seed=7)
        shutil.copytree(model, database.parent / "storage" / "submissions" / str(submission.id))
        submission.status, submission.accepted_at = SubmissionStatus.accepted, utcnow()
        session.add(submission)
        session.commit()
        submission_id = submission.id
    engine.dispose()
    return submission_id


def test_an_entrant_sees_the_evaluation_finish_with_scores_without_reloading(page, server, accepted_submission):
    page.goto(server + "/signin")
    page.get_by_label("E-mail").fill("iberia@demo.lagc.eu")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    card = page.locator("section.evaluation", has=page.get_by_text(LABEL))
    for _ in range(20):  # the scheduler creates the evaluation within a second or two of acceptance
        page.goto(server + "/c/demo/evaluations")
        if card.count():
            break
        page.wait_for_timeout(500)
    assert card.count() == 1
    before = card.locator("[data-state]").get_attribute("data-state")
    assert before in ("queued", "dispatching", "dispatched", "running")
    page.evaluate("window.__same_page = true")  # gone if anything reloads the page
    card.locator("[data-state='finished']").wait_for(timeout=420_000)
    assert page.evaluate("window.__same_page === true")
    assert card.locator("tr[data-task='capitals_mc'] td.score").inner_text().startswith("0.")
    assert "hidden until the award" in card.inner_text()  # capitals_gen is a hidden task
