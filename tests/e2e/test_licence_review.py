"""An organiser resolves a licence review in a real browser against the running platform."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

import app.models  # noqa: F401  (every table, so the foreign keys resolve)
from app.accounts.models import User
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus
from app.db import make_engine
from app.teams.models import Team
from tests.e2e.conftest import complete_second_step

pytestmark = pytest.mark.e2e
DEMO_PASSWORD = "demo-password-2026"
LABEL = "baltic-7b (e2e licence review)"


@pytest.fixture
def submission_in_review(server, server_database_url) -> int:
    """A Baltic Tensor submission recorded in licence review, written to the running platform's database."""
    engine = make_engine(server_database_url)
    with Session(engine) as session:
        team = session.exec(select(Team).where(Team.name == "Baltic Tensor (LV)")).one()
        entrant = session.exec(select(User).where(User.email == "baltic@demo.lagc.eu")).one()
        submission = Submission(
            challenge_id=team.challenge_id, team_id=team.id, submitted_by_id=entrant.id, label=LABEL,
            source=SubmissionSource.upload, status=SubmissionStatus.accepted, licence_verdict="review",
            licence_id="llama3", licence_reasons=["The model card names meta-llama/Meta-Llama-3-8B as base_model; "
                                                  "the challenge asks for models trained from scratch."])
        session.add(submission)
        session.commit()
        submission_id = submission.id
    engine.dispose()
    return submission_id


def test_an_organiser_resolves_a_licence_review_with_a_justification(page, server, submission_in_review):
    page.goto(server + "/signin")
    page.get_by_label("E-mail").fill("organiser@demo.lagc.eu")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    complete_second_step(page, "organiser@demo.lagc.eu")
    page.goto(server + "/organiser/licences")
    card = page.locator(f"section[data-submission='{submission_in_review}']")
    expect(card.get_by_text("Meta-Llama-3-8B", exact=False)).to_be_visible()
    card.get_by_label("Fail: the licence is not acceptable").check()
    card.get_by_label("Justification", exact=False).fill(
        "Fine-tuned from Llama 3, not trained from scratch as the rules require.")
    card.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text(f"Licence of submission '{LABEL}' resolved: fail.")).to_be_visible()
    assert page.locator(f"section[data-submission='{submission_in_review}']").count() == 0
