"""An organiser resolves a licence review with a written justification; the latest resolution counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.checkpoints.models import Submission
from app.db import utcnow
from app.licences.models import LicenceResolution, ResolutionsAreAppendOnly
from app.licences.services import LicenceError, effective_verdict, resolve_review, submissions_in_review
from tests.helpers import bearer, sign_in, submit

REASON = "The Llama 3 licence allows this research release; checked with the legal team."


@pytest.fixture
def in_review(db, entrant_team):
    """The entrant team's submission, recorded with a `review` verdict."""
    with db() as session:
        submission = session.get(Submission, entrant_team["submission_id"])
        submission.licence_verdict, submission.licence_id = "review", "llama3"
        submission.licence_reasons = ["The model card names meta-llama/Meta-Llama-3-8B as base_model."]
        session.add(submission)
    return entrant_team["submission_id"]


@pytest.fixture
def organiser_id(make_user):
    return make_user("olga@example.eu", Role.organiser)


def test_a_resolution_without_a_real_justification_is_refused(db, in_review, organiser_id):
    with db() as session:
        submission = session.get(Submission, in_review)
        with pytest.raises(LicenceError, match="at least 20"):
            resolve_review(session, submission, "pass", "fine", organiser_id)
        with pytest.raises(LicenceError, match="pass or fail"):
            resolve_review(session, submission, "review", REASON, organiser_id)


def test_a_resolution_is_audited_with_its_justification(db, in_review, organiser_id):
    with db() as session:
        resolve_review(session, session.get(Submission, in_review), "pass", REASON, organiser_id)
    with db() as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "licence.resolved")).all()
        assert event.actor_id == organiser_id and event.details["justification"] == REASON
        assert event.details["recorded_verdict"] == "review"


def test_the_effective_verdict_is_the_latest_resolution_else_the_recorded_verdict(db, in_review, organiser_id):
    now = utcnow()
    with db() as session:
        submission = session.get(Submission, in_review)
        assert effective_verdict(session, submission) == "review"
        resolve_review(session, submission, "pass", REASON, organiser_id, now=now)
        resolve_review(
            session,
            submission,
            "fail",
            "On second reading the acceptable-use policy forbids it.",
            organiser_id,
            now=now + timedelta(hours=1),
        )
    with db() as session:
        submission = session.get(Submission, in_review)
        assert effective_verdict(session, submission) == "fail"
        assert submission.licence_verdict == "review"  # the engine's verdict is kept as it was
        assert submissions_in_review(session) == []


def test_resolutions_are_append_only(db, in_review, organiser_id):
    with db() as session:
        resolve_review(session, session.get(Submission, in_review), "pass", REASON, organiser_id)
    with pytest.raises(ResolutionsAreAppendOnly):
        with db() as session:
            resolution = session.exec(select(LicenceResolution)).one()
            resolution.outcome = "fail"
            session.add(resolution)


def test_only_a_submission_in_review_can_be_resolved(db, entrant_team, organiser_id):
    with db() as session:
        with pytest.raises(LicenceError, match="in review"):
            resolve_review(
                session, session.get(Submission, entrant_team["submission_id"]), "pass", REASON, organiser_id
            )


def test_an_organiser_resolves_a_review_through_the_api(client, db, make_user, in_review):
    headers = bearer(client, make_user, db, "olga@example.eu", Role.organiser)
    url = f"/api/v1/submissions/{in_review}/licence-resolution"
    short = client.post(url, json={"outcome": "pass", "justification": "ok"}, headers=headers)
    assert short.status_code == 422 and "justification" in short.get_json()["errors"]
    response = client.post(url, json={"outcome": "pass", "justification": REASON}, headers=headers)
    assert response.status_code == 201 and response.get_json()["effective_verdict"] == "pass"
    missing = client.post(
        "/api/v1/submissions/999999/licence-resolution",
        json={"outcome": "pass", "justification": REASON},
        headers=headers,
    )
    assert missing.status_code == 404


def test_an_entrant_cannot_resolve_a_review(client, db, make_user, in_review):
    headers = bearer(client, make_user, db, "eve@example.eu", Role.entrant)
    response = client.post(
        f"/api/v1/submissions/{in_review}/licence-resolution",
        json={"outcome": "pass", "justification": REASON},
        headers=headers,
    )
    assert response.status_code == 403
    with db() as session:
        assert session.exec(select(LicenceResolution)).all() == []


def test_the_organiser_page_lists_reviews_with_their_reasons_and_resolves_them(client, db, in_review, organiser_id):
    sign_in(client, "olga@example.eu")
    page = client.get("/organiser/licences").get_data(as_text=True)
    assert "Aurora Labs" in page and "Meta-Llama-3-8B" in page
    url = f"/organiser/licences/{in_review}/resolve"
    refused = submit(
        client,
        url,
        {"outcome": "pass", "justification": "too short"},
        page="/organiser/licences",
        follow_redirects=True,
    )
    assert "at least 20" in refused.get_data(as_text=True)
    done = submit(
        client, url, {"outcome": "pass", "justification": REASON}, page="/organiser/licences", follow_redirects=True
    ).get_data(as_text=True)
    assert "resolved: pass" in done and "No submission is waiting" in done


def test_an_entrant_cannot_open_the_organiser_licence_page(client, entrant_team):
    sign_in(client, entrant_team["email"])
    assert client.get("/organiser/licences").status_code == 403
