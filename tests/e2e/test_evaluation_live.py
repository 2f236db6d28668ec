"""An entrant watches their evaluation go from queued or running to finished, with its scores, without
reloading the page: the running platform's scheduler evaluates a tiny model for real with lm-eval."""

from __future__ import annotations

import pytest

from app.accounts.services import find_user
from app.checkpoints.models import Submission, SubmissionStatus
from app.db import utcnow
from tests import factories
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
LABEL = "iberia-tiny (e2e live evaluation)"


@pytest.fixture
def accepted_submission(server_db, server_instance, tmp_path_factory) -> int:
    """An accepted Iberia NLP submission of a tiny model, pinned where the intake pins checkpoints."""
    from evaluation.tinymodel import make_tiny_model

    with server_db() as session:
        team = factories.team_named(session, "Iberia NLP (PT)")
        entrant = find_user(session, "iberia@demo.lagc.eu")
        submission_id = factories.submission(
            session,
            team.challenge_id,
            team.id,
            entrant.id,
            label=LABEL,
            status=SubmissionStatus.validating,
            parameters=None,
            licence_verdict=None,
        ).id
    model = make_tiny_model(tmp_path_factory.mktemp("e2e-model"), seed=7)
    factories.pin(server_instance / "storage" / "submissions" / str(submission_id), model)
    with server_db() as session:  # accepted once its files are in place, as the intake does
        submission = session.get(Submission, submission_id)
        submission.status, submission.accepted_at = SubmissionStatus.accepted, utcnow()
        session.add(submission)
    return submission_id


def test_an_entrant_sees_the_evaluation_finish_with_scores_without_reloading(page, server, accepted_submission):
    sign_in(page, server, "iberia@demo.lagc.eu")
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
