"""Uploading a checkpoint with tus, resuming it, and getting it accepted and pinned."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import pytest

from tests.factories import checkpoint_files
from tests.helpers import TUS, chunk_checksum, sign_in, storage_tree


def test_a_checkpoint_uploaded_in_chunks_is_accepted_pinned_and_described(entrant, storage):
    files = checkpoint_files()
    submission = entrant.start()
    entrant.upload_all(submission, files)
    response = entrant.finalise(submission)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "validating"
    entrant.run_jobs()
    body = entrant.get(submission)
    assert body["status"] == "accepted", body["findings"]
    assert body["parameters"] == 28 and body["dtypes"] == {"F32": 28}
    assert {f["name"]: f["sha256"] for f in body["files"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()
    }
    assert body["licence"]["verdict"] is not None
    pinned = storage / "submissions" / str(submission)
    assert sorted(os.listdir(pinned)) == sorted(files)
    for name, data in files.items():
        blob = (
            storage / "blobs" / "sha256" / hashlib.sha256(data).hexdigest()[:2] / hashlib.sha256(data).hexdigest()[2:]
        )
        assert blob.read_bytes() == data and os.path.samefile(blob, pinned / name)
        assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    assert stat.S_IMODE(pinned.stat().st_mode) == 0o555
    assert not [p for p in (storage / "uploads").iterdir()]  # no part left behind


def test_identical_files_are_stored_once(entrant, storage):
    for label in ("first", "second"):
        submission = entrant.start(label)
        entrant.upload_all(submission, checkpoint_files())
        assert entrant.finalise(submission).status_code == 202
        entrant.run_jobs()
        assert entrant.get(submission)["status"] == "accepted"
    blobs = [p for p in (storage / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == len(checkpoint_files())


def test_an_interrupted_upload_resumes_from_the_last_confirmed_byte(entrant):
    data = checkpoint_files()["model.safetensors"]
    submission = entrant.start()
    url = entrant.create(submission, "model.safetensors", len(data)).headers["Location"]
    assert entrant.patch(url, 0, data[:50]).status_code == 204
    head = entrant.head(url)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "50"
    assert head.headers["Upload-Length"] == str(len(data)) and head.headers["Tus-Resumable"] == "1.0.0"
    response = entrant.patch(url, 50, data[50:])
    assert response.status_code == 204 and response.headers["Upload-Offset"] == str(len(data))
    assert "Upload-Expires" in response.headers


def test_a_resume_at_a_wrong_offset_is_refused_with_the_right_one(entrant, storage):
    submission = entrant.start()
    url = entrant.create(submission, "config.json", 100).headers["Location"]
    assert entrant.patch(url, 0, b"x" * 40).status_code == 204
    before = storage_tree(storage)
    response = entrant.patch(url, 30, b"y" * 20)
    assert response.status_code == 409
    assert "the server has 40 bytes" in response.get_json()["detail"]
    assert storage_tree(storage) == before


def test_a_chunk_with_a_wrong_checksum_is_discarded(entrant, storage):
    submission = entrant.start()
    url = entrant.create(submission, "config.json", 100).headers["Location"]
    assert entrant.patch(url, 0, b"x" * 40).status_code == 204
    before = storage_tree(storage)
    response = entrant.patch(url, 40, b"y" * 20, checksum="sha256 " + "A" * 43 + "=")
    assert response.status_code == 460 and "send it again" in response.get_json()["detail"]
    assert storage_tree(storage) == before
    assert entrant.head(url).headers["Upload-Offset"] == "40"


def test_the_server_announces_what_it_supports(client):
    response = client.options("/api/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "checksum", "termination", "expiration"}
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"


def test_a_terminated_upload_leaves_nothing(entrant, storage):
    submission = entrant.start()
    before = storage_tree(storage)
    url = entrant.create(submission, "config.json", 10).headers["Location"]
    assert entrant.patch(url, 0, b"{}").status_code == 204
    assert entrant.client.delete(url, headers={**entrant.headers, **TUS}).status_code == 204
    assert storage_tree(storage) == before
    assert entrant.head(url).status_code == 404


def test_an_accepted_submission_cannot_change(entrant):
    submission = entrant.start()
    entrant.upload_all(submission, checkpoint_files())
    entrant.finalise(submission)
    entrant.run_jobs()
    assert entrant.create(submission, "generation_config.json", 2).status_code == 409
    assert entrant.finalise(submission).status_code == 409


def test_the_browser_uploads_with_its_session_and_the_csrf_header(client, eligible_team):
    intake = eligible_team("ines@iberia.eu", "Iberia NLP")
    submission = intake.start()
    sign_in(client, "ines@iberia.eu")  # the browser's session cookie, not a Bearer token
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    token = page.split('data-csrf="')[1].split('"')[0]
    browser = {"X-CSRFToken": token}
    refused = intake.create(submission, "config.json", 2, prefix="")
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["detail"]
    intake.headers = browser
    created = intake.create(submission, "config.json", 2, prefix="")
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    assert url.startswith("/uploads/")
    assert intake.patch(url, 0, b"{}").status_code == 204
    assert intake.patch(url, 0, b"{}", headers={}).status_code == 400  # PATCH without the header


class _CutShortBody(io.RawIOBase):
    """A request body that stops after `data`: either it ends (EOF) or the connection resets."""

    def __init__(self, data: bytes, reset: bool):
        self.data, self.reset = data, reset

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.data:
            if self.reset:
                raise ConnectionResetError(104, "Connection reset by peer")
            return 0
        count = min(len(buffer), len(self.data))
        buffer[:count], self.data = self.data[:count], self.data[count:]
        return count


@pytest.mark.parametrize("reset", [False, True], ids=["body ends early", "connection resets"])
def test_a_chunk_cut_short_is_discarded_and_answered_400(entrant, storage, reset):
    submission = entrant.start()
    url = entrant.create(submission, "config.json", 100).headers["Location"]
    assert entrant.patch(url, 0, b"x" * 40).status_code == 204
    before = storage_tree(storage)
    headers = {
        **entrant.headers,
        **TUS,
        "Upload-Offset": "40",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Checksum": chunk_checksum(b"y" * 60),
    }
    response = entrant.client.patch(
        url,
        data=b"y" * 60,
        headers=headers,  # announces 60 bytes, sends 20
        environ_overrides={"wsgi.input": _CutShortBody(b"y" * 20, reset)},
    )
    assert response.status_code == 400 and "send it again" in response.get_json()["detail"]
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert storage_tree(storage) == before
    assert entrant.head(url).headers["Upload-Offset"] == "40"


def test_only_a_single_submissions_answer_lists_the_files_still_arriving(entrant):
    submission = entrant.start()
    assert entrant.create(submission, "model.safetensors", 100).status_code == 201
    one = entrant.get(submission)
    assert [(u["filename"], u["length"], u["offset"]) for u in one["uploads"]] == [("model.safetensors", 100, 0)]
    listing = entrant.client.get("/api/v1/challenges/lagc-2024/submissions", headers=entrant.headers).get_json()
    assert [s["id"] for s in listing["submissions"]] == [submission]
    assert "uploads" not in listing["submissions"][0] and listing["submissions"][0]["status"] == "receiving"
