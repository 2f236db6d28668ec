"""Checkpoint submissions follow the phases: a new submission, Hub reference or file upload is refused (409, with
the reason) before submissions open and after they close, on the pages and over the API, and nothing is stored;
an upload created while submissions were open completes after the close; organisers' baselines are exempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.challenges.services import get_challenge, load_config_text
from app.checkpoints.models import Submission, Upload
from app.db import utcnow
from tests.factories import checkpoint_files, open_config_text
from tests.helpers import TUS, csrf_token, meta, sign_in, storage_tree, submit

CLOSED = "Checkpoint submissions closed on "
PROBLEM = "application/problem+json"


def _move_phases(db, slug: str, days: int) -> None:
    """The organiser moves the challenge's phases `days` days (negative: into the past), as a saved edit does."""
    with db() as session:
        text = get_challenge(session, slug).config_text
        load_config_text(session, open_config_text(text, utcnow() + timedelta(days=days)))


def _counts(db) -> tuple[int, int, int]:
    with db() as session:
        return tuple(
            session.exec(select(func.count()).select_from(model)).one() for model in (Submission, Upload, AuditEvent)
        )


@pytest.fixture
def closed(entrant, db, challenge):
    """The entrant's eligible team, after the organiser moved every phase 100 days back: submissions closed."""
    _move_phases(db, challenge, -100)
    return entrant


def test_a_submission_over_the_api_after_the_close_is_a_409_problem_and_stores_nothing(closed, db, storage):
    before, files = _counts(db), storage_tree(storage)
    response = closed.client.post(
        "/api/v1/challenges/lagc-2024/submissions", json={"label": "Late"}, headers=closed.headers
    )
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert response.get_json()["detail"].startswith(CLOSED) and response.get_json()["detail"].endswith(" UTC.")
    assert _counts(db) == before and storage_tree(storage) == files


def test_a_hub_reference_after_the_close_is_refused_before_the_hub_is_asked(closed, db):
    before = _counts(db)
    response = closed.client.post(
        "/api/v1/challenges/lagc-2024/submissions",
        headers=closed.headers,
        json={"label": "Late", "hub_repo": "aurora-labs/aurora-30b", "hub_revision": "main"},
    )
    assert response.status_code == 409 and response.get_json()["detail"].startswith(CLOSED)
    assert _counts(db) == before  # no Hub runs in the tests: a request to it would have answered 502


def test_submissions_before_they_open_are_refused_with_the_opening_date(entrant, db, challenge):
    _move_phases(db, challenge, 60)  # registration opens in a month; submissions after it
    before = _counts(db)
    response = entrant.client.post(
        "/api/v1/challenges/lagc-2024/submissions", json={"label": "Early"}, headers=entrant.headers
    )
    assert response.status_code == 409
    assert response.get_json()["detail"].startswith("Checkpoint submissions open on ")
    assert _counts(db) == before


def test_the_page_says_submissions_are_closed_and_refuses_a_start(client, closed, db):
    sign_in(client, "ana@aurora.eu")
    page = client.get("/c/lagc-2024/submissions").get_data(as_text=True)
    assert "You cannot start a submission now: " + CLOSED in page
    assert "Start the submission" not in page and "Submit the Hub reference" not in page
    before = _counts(db)
    response = submit(client, "/c/lagc-2024/submissions", {"label": "Late"}, page="/dashboard")
    assert response.status_code == 409 and CLOSED in response.get_data(as_text=True)
    hub = submit(
        client,
        "/c/lagc-2024/submissions/hub",
        {"label": "Late", "hub_repo": "aurora-labs/aurora-30b", "hub_revision": "main"},
        page="/dashboard",
    )
    assert hub.status_code == 409 and CLOSED in hub.get_data(as_text=True)
    assert _counts(db) == before


def test_the_dashboard_shows_the_submission_deadline(client, entrant):
    sign_in(client, "ana@aurora.eu")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Checkpoint submissions close on " in page and "(in 29 days)" in page


def test_an_upload_begun_before_the_close_completes_after_it_and_a_new_file_is_refused(
    client, entrant, db, challenge, storage
):
    files = checkpoint_files()
    big = files.pop("model.safetensors")
    submission = entrant.start()
    entrant.upload_all(submission, files)
    url = entrant.create(submission, "model.safetensors", len(big)).headers["Location"]
    assert entrant.patch(url, 0, big[:40]).status_code == 204

    _move_phases(db, challenge, -100)  # the deadline passes mid-upload

    before, tree = _counts(db), storage_tree(storage)
    extra = entrant.create(submission, "generation_config.json", 10)
    assert extra.status_code == 409 and extra.mimetype == PROBLEM and extra.get_json()["detail"].startswith(CLOSED)
    sign_in(client, "ana@aurora.eu")  # the browser's tus route (session and the page's CSRF token)
    token = csrf_token(client.get(f"/submissions/{submission}").get_data(as_text=True))
    browser = client.post(
        "/uploads",
        headers={
            **TUS,
            "X-CSRFToken": token,
            "Upload-Length": "10",
            "Upload-Metadata": meta(filename="generation_config.json", submission=str(submission)),
        },
    )
    assert browser.status_code == 409 and browser.get_json()["detail"].startswith(CLOSED)
    assert _counts(db) == before and storage_tree(storage) == tree

    assert entrant.head(url).headers["Upload-Offset"] == "40"
    assert entrant.patch(url, 40, big[40:]).status_code == 204
    assert entrant.finalise(submission).status_code == 202
    entrant.run_jobs()
    assert entrant.get(submission)["status"] == "accepted"


def test_the_submission_page_says_only_begun_uploads_may_finish_after_the_close(client, entrant, db, challenge):
    submission = entrant.start()
    _move_phases(db, challenge, -100)
    sign_in(client, "ana@aurora.eu")
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    assert CLOSED in page and "Files whose\n        upload began before then can still be finished" in page
    assert 'id="uploader"' in page  # resuming stays possible


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("torch")
    from evaluation.tinymodel import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("baseline-closed"), seed=3)


def test_an_organisers_baseline_is_accepted_after_the_close(app, db, make_user, closed_challenge, tiny_model):
    make_user("olga@example.eu", Role.organiser)
    result = app.test_cli_runner().invoke(
        args=[
            "checkpoint",
            "submit-baseline",
            "--challenge",
            closed_challenge,
            "--model",
            "Tiny reference",
            "--organiser",
            "olga@example.eu",
            str(tiny_model),
        ]
    )
    assert result.exit_code == 0, result.output
    with db() as session:
        assert session.exec(select(Submission)).one().status.value == "accepted"
