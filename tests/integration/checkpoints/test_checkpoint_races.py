"""Requests that race: the same intake act fired many times at once at gunicorn's worker processes, on SQLite
and PostgreSQL. Each state change is a compare-and-set under a lock (`app.db.compare_and_set`), so exactly
one request changes the state and every other one is told 409, never a 500."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.checkpoints.models import Submission, Upload
from tests.factories import checkpoint_files
from tests.fakehub import FakeHub
from tests.helpers import TUS, chunk_checksum

PARALLEL = 20


def _finalise_at_once(live, entrant, submission: int) -> list:
    url = f"{live.url}/api/v1/submissions/{submission}/finalise"
    return live.fire(PARALLEL, lambda http: http.post(url, headers=entrant.headers))


def _actions(db, submission: int) -> Counter:
    with db() as session:
        return Counter(
            session.exec(
                select(AuditEvent.action).where(
                    AuditEvent.subject_type == "submission", AuditEvent.subject_id == str(submission)
                )
            )
        )


def test_twenty_parallel_finalises_of_a_sound_submission_give_one_202_and_409_for_the_rest(live, entrant, db, storage):
    submission = entrant.start()
    entrant.upload_all(submission, checkpoint_files())
    responses = _finalise_at_once(live, entrant, submission)
    assert sorted(r.status_code for r in responses) == [202] + [409] * (PARALLEL - 1), [
        r.text for r in responses if r.status_code not in (202, 409)
    ]
    assert len(live.pids("/finalise")) > 1, "the requests were not spread over several worker processes"
    assert live.tracebacks() == ""
    refused = next(r for r in responses if r.status_code == 409).json()
    assert "already" in refused["detail"] and refused["type"] and refused["status"] == 409
    assert _actions(db, submission)["submission.finalised"] == 1
    with db() as session:
        assert session.get(Submission, submission).status.value == "validating"
    assert sorted(p.name for p in (storage / "staging" / str(submission)).iterdir()) == sorted(checkpoint_files())
    entrant.run_jobs()
    assert entrant.get(submission)["status"] == "accepted"


def test_twenty_parallel_finalises_of_a_broken_submission_give_one_422_with_the_true_findings(
    live, entrant, db, storage
):
    submission = entrant.start()
    files = checkpoint_files()
    del files["config.json"]  # refused on its names: no configuration
    entrant.upload_all(submission, files)
    responses = _finalise_at_once(live, entrant, submission)
    assert sorted(r.status_code for r in responses) == [409] * (PARALLEL - 1) + [422], [
        r.text for r in responses if r.status_code not in (409, 422)
    ]
    assert live.tracebacks() == ""
    refusal = next(r for r in responses if r.status_code == 422).json()
    assert any("config.json" in error for error in refusal["findings"]["errors"])
    assert not any("could not be read" in error for error in refusal["findings"]["errors"])
    assert _actions(db, submission)["submission.rejected"] == 1
    assert _actions(db, submission)["submission.finalised"] == 0
    assert not (storage / "staging" / str(submission)).exists(), "an empty staging folder was left behind"
    assert list((storage / "uploads").iterdir()) == []
    with db() as session:
        assert session.exec(select(Upload).where(Upload.submission_id == submission)).all() == []


def test_the_same_chunk_sent_twenty_times_at_once_is_written_once(live, entrant, db):
    submission = entrant.start()
    data = checkpoint_files()["model.safetensors"]
    url = entrant.create(submission, "model.safetensors", len(data)).headers["Location"]
    path = url.split("://", 1)[-1].split("/", 1)[1]
    headers = {
        **entrant.headers,
        **TUS,
        "Upload-Offset": "0",
        "Upload-Checksum": chunk_checksum(data),
        "Content-Type": "application/offset+octet-stream",
    }
    responses = live.fire(PARALLEL, lambda http: http.patch(f"{live.url}/{path}", data=data, headers=headers))
    statuses = Counter(r.status_code for r in responses)
    assert statuses[204] == 1 and set(statuses) <= {204, 409, 423}, statuses
    assert live.tracebacks() == ""
    with db() as session:
        assert session.exec(select(Upload.offset).where(Upload.submission_id == submission)).one() == len(data)


def test_an_upload_terminated_twenty_times_at_once_is_terminated_once(live, entrant, db, storage):
    submission = entrant.start()
    url = entrant.create(submission, "config.json", 10).headers["Location"]
    path = url.split("://", 1)[-1].split("/", 1)[1]
    responses = live.fire(PARALLEL, lambda http: http.delete(f"{live.url}/{path}", headers={**entrant.headers, **TUS}))
    statuses = Counter(r.status_code for r in responses)
    assert statuses[204] == 1 and set(statuses) <= {204, 404}, statuses
    assert live.tracebacks() == ""
    assert list((storage / "uploads").iterdir()) == []


def test_parallel_starts_stop_at_the_teams_daily_limit(live, eligible_team, limited_challenge):
    intake = eligible_team("lena@limits.eu", "Limits Labs", slug=limited_challenge)
    url = f"{live.url}/api/v1/challenges/{limited_challenge}/submissions"
    responses = live.fire(PARALLEL, lambda http: http.post(url, json={"label": "v1"}, headers=intake.headers))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2, 429: PARALLEL - 2}, statuses
    assert live.tracebacks() == ""


@pytest.fixture
def fake_hub():
    hub = FakeHub()
    hub.thread.start()
    yield hub
    hub.stop()


@pytest.fixture
def live_env(fake_hub, tmp_path) -> dict:
    return {"HF_ENDPOINT": fake_hub.url, "HF_HOME": str(tmp_path / "hf-home")}


def test_parallel_hub_references_stop_at_the_teams_daily_limit(live, eligible_team, limited_challenge, fake_hub):
    fake_hub.add("aurora-labs/tiny", checkpoint_files())
    intake = eligible_team("lena@limits.eu", "Limits Labs", slug=limited_challenge)
    url = f"{live.url}/api/v1/challenges/{limited_challenge}/submissions"
    body = {"label": "from the Hub", "hub_repo": "aurora-labs/tiny", "hub_revision": "main"}
    responses = live.fire(PARALLEL, lambda http: http.post(url, json=body, headers=intake.headers))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2, 429: PARALLEL - 2}, [r.text for r in responses if r.status_code not in (201, 429)]
    assert live.tracebacks() == ""
