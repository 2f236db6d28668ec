"""Who may submit, how often: the eligibility gate and the per-team limits, also under concurrency."""

from __future__ import annotations

import threading
import time

from app.api.problems import status_of
from tests.factories import checkpoint_files


def test_a_team_that_is_not_eligible_cannot_start_a_submission(eligible_team):
    entrant = eligible_team("nils@nordic.eu", "Nordic AI", eligible=False)
    response = entrant.client.post(
        "/api/v1/challenges/lagc-2024/submissions", json={"label": "v1"}, headers=entrant.headers
    )
    assert response.status_code == 403
    assert "eligibility application" in response.get_json()["detail"]


def test_the_daily_limit_counts_only_submissions_that_were_not_refused(eligible_team, limited_challenge):
    entrant = eligible_team("cy@celtic.eu", "Celtic AI", slug=limited_challenge)
    refused = entrant.start("broken", slug=limited_challenge)
    entrant.upload_all(refused, {"config.json": b"{}"})
    assert entrant.finalise(refused).status_code == 422
    entrant.start("one", slug=limited_challenge)
    entrant.start("two", slug=limited_challenge)
    third = entrant.client.post(
        f"/api/v1/challenges/{limited_challenge}/submissions", json={"label": "three"}, headers=entrant.headers
    )
    assert third.status_code == 429 and "daily limit (2)" in third.get_json()["detail"]


def test_two_concurrent_submissions_cannot_both_slip_under_the_limit(
    eligible_team, limited_challenge, app, monkeypatch
):
    from sqlmodel import Session

    from app.accounts.services import find_user
    from app.challenges.services import get_challenge
    from app.checkpoints import services
    from app.checkpoints.services import IntakeError, create_submission

    entrant = eligible_team("cy@celtic.eu", "Celtic AI", slug=limited_challenge)
    entrant.start("one", slug=limited_challenge)  # one left today
    counted = services.count_submissions

    def slow_count(*args):  # widen the window between counting and inserting
        result = counted(*args)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(services, "count_submissions", slow_count)
    barrier, outcomes = threading.Barrier(2), []

    def attempt(label: str) -> None:
        with Session(app.extensions["lagc_engine"], expire_on_commit=False) as session:
            user, challenge = find_user(session, "cy@celtic.eu"), get_challenge(session, limited_challenge)
            barrier.wait()
            try:
                create_submission(session, user, challenge, label)
                session.commit()
                outcomes.append("created")
            except IntakeError as error:
                session.rollback()
                outcomes.append(status_of(error))

    threads = [threading.Thread(target=attempt, args=(f"racer {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [429, "created"]


def test_an_accepted_submission_counts_against_the_total(eligible_team, limited_challenge):
    entrant = eligible_team("cy@celtic.eu", "Celtic AI", slug=limited_challenge)
    submission = entrant.start("v1", slug=limited_challenge)
    small = {k: v for k, v in checkpoint_files().items() if k in ("config.json", "model.safetensors")}
    entrant.upload_all(submission, small)
    assert entrant.finalise(submission).status_code == 202
    entrant.run_jobs()
    assert entrant.get(submission)["status"] == "accepted"
    listed = entrant.client.get(f"/api/v1/challenges/{limited_challenge}/submissions", headers=entrant.headers)
    assert [s["status"] for s in listed.get_json()["submissions"]] == ["accepted"]
