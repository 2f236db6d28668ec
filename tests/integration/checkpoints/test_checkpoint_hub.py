"""Submitting by Hugging Face Hub reference, against FakeHub (the Hub cannot be reached from here)."""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import checkpoint_files
from tests.fakehub import FakeHub


@pytest.fixture
def fake_hub():
    hub = FakeHub()
    hub.thread.start()
    yield hub
    hub.stop()


@pytest.fixture
def settings(settings, fake_hub, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # as in the evaluation's environment
    monkeypatch.setenv("HF_HOME", str(settings.instance_dir / "hf-home"))
    return settings.with_overrides(hub_endpoint=fake_hub.url)


def submit(entrant, repo: str, revision: str = "main", token: str | None = None):
    body = {"label": "from the Hub", "hub_repo": repo, "hub_revision": revision}
    if token:
        body["hub_token"] = token
    return entrant.client.post("/api/v1/challenges/lagc-2024/submissions", json=body, headers=entrant.headers)


def stored_submission(db, submission_id: int):
    from app.checkpoints.models import Submission

    with db() as session:
        return session.get(Submission, submission_id)


def test_a_hub_revision_is_pinned_and_only_accepted_files_are_downloaded(entrant, fake_hub, db, storage):
    files = {**checkpoint_files(), "pytorch_model.bin": b"\x80\x04not opened", "onnx/model.onnx": b"x"}
    commit = fake_hub.add("aurora-labs/aurora-30b", files)
    response = submit(entrant, "aurora-labs/aurora-30b")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["hub_commit"] == commit and body["status"] == "receiving"
    assert any("pytorch_model.bin" in w and "pickle" in w for w in body["findings"]["warnings"])
    fake_hub.add("aurora-labs/aurora-30b", {**files, "config.json": b'{"changed": true}'})  # a later push
    entrant.run_jobs()
    result = entrant.get(body["id"])
    assert result["status"] == "accepted", result["findings"]
    assert fake_hub.downloaded() == set(checkpoint_files())
    assert {f["name"]: f["sha256"] for f in result["files"]}["config.json"] == hashlib.sha256(
        files["config.json"]
    ).hexdigest()
    assert all(commit in path for method, path, _ in fake_hub.requests if "/resolve/" in path)
    assert not (storage / "downloads" / str(body["id"])).exists()


def test_a_private_repo_token_is_stored_encrypted_and_deleted_after_the_download(entrant, fake_hub, db):
    fake_hub.add("baltic/private-7b", checkpoint_files(), token="hf_secret_token_123")
    assert submit(entrant, "baltic/private-7b").status_code == 422  # no token: not found
    response = submit(entrant, "baltic/private-7b", token="hf_secret_token_123")
    assert response.status_code == 201, response.get_json()
    submission_id = response.get_json()["id"]
    stored = stored_submission(db, submission_id).hub_token_encrypted
    assert stored and "hf_secret_token_123" not in stored
    entrant.run_jobs()
    after = stored_submission(db, submission_id)
    assert after.hub_token_encrypted is None and after.status.value == "accepted"
    assert {auth for method, path, auth in fake_hub.requests if "/resolve/" in path} == {"Bearer hf_secret_token_123"}


def test_an_unknown_revision_or_malformed_reference_is_refused_in_words(entrant, fake_hub):
    fake_hub.add("aurora-labs/aurora-30b", checkpoint_files())
    unknown = submit(entrant, "aurora-labs/aurora-30b", "v9")
    assert unknown.status_code == 422 and "no revision 'v9'" in unknown.get_json()["detail"]
    malformed = submit(entrant, "../etc/passwd")
    assert malformed.status_code == 422 and "organisation/name" in malformed.get_json()["detail"]


def test_a_bad_checkpoint_on_the_hub_is_refused_after_download(entrant, fake_hub, storage):
    files = {**checkpoint_files(), "model.safetensors": checkpoint_files()["model.safetensors"][:-4]}
    fake_hub.add("iberia/broken", files)
    submission_id = submit(entrant, "iberia/broken").get_json()["id"]
    entrant.run_jobs()
    result = entrant.get(submission_id)
    assert result["status"] == "rejected" and "truncated" in " ".join(result["findings"]["errors"])
    assert not [p for p in storage.rglob("*") if p.is_file()]
