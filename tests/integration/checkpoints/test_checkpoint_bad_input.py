"""Bad input: each is refused with a clear 4xx message and leaves the storage as it was."""

from __future__ import annotations

import json
import pickle
import struct

import pytest

from tests.factories import checkpoint_files
from tests.helpers import TUS, storage_tree


class WritesAFile:
    """A real malicious pickle: unpickling it opens (creates) `target` for writing."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def refused_at_finalise(entrant, storage, files: dict[str, bytes], expected: str) -> dict:
    """Upload `files` to a fresh submission, finalise: 422 naming `expected`, storage back as it was."""
    before = storage_tree(storage)
    submission = entrant.start()
    entrant.upload_all(submission, files)
    response = entrant.finalise(submission)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert any(expected in error for error in body["findings"]["errors"]), body["findings"]
    assert expected in body["detail"] or len(body["findings"]["errors"]) > 5
    entrant.run_jobs()
    assert storage_tree(storage) == before
    return body


def test_a_malicious_pickle_is_never_unpickled(entrant, storage, tmp_path):
    proof, target = tmp_path / "proof", tmp_path / "pwned"
    pickle.loads(pickle.dumps(WritesAFile(str(proof)))).close()
    assert proof.exists()  # the payload is real
    payload = pickle.dumps(WritesAFile(str(target)))
    submission = entrant.start()
    refused = entrant.create(submission, "pytorch_model.bin", len(payload))
    assert refused.status_code == 400 and "pickle" in refused.get_json()["detail"]
    disguised = {**checkpoint_files(), "model.safetensors": payload}
    refused_at_finalise(entrant, storage, disguised, "model.safetensors")
    assert not target.exists()


def test_a_truncated_safetensors_file_is_refused(entrant, storage):
    files = checkpoint_files()
    files["model.safetensors"] = files["model.safetensors"][:-10]
    refused_at_finalise(entrant, storage, files, "truncated file?")


def test_a_header_length_larger_than_the_file_is_refused(entrant, storage):
    files = checkpoint_files()
    files["model.safetensors"] = struct.pack("<Q", 10**6) + files["model.safetensors"][8:]
    refused_at_finalise(entrant, storage, files, "truncated upload?")


def test_overlapping_tensor_ranges_are_refused(entrant, storage):
    header = json.dumps(
        {
            "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
            "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
        }
    ).encode()
    files = {**checkpoint_files(), "model.safetensors": struct.pack("<Q", len(header)) + header + bytes(24)}
    refused_at_finalise(entrant, storage, files, "overlapping byte ranges")


def test_a_config_asking_for_remote_code_is_refused(entrant, storage):
    config = {"architectures": ["GPT2LMHeadModel"], "auto_map": {"AutoModelForCausalLM": "evil.Model"}}
    files = {**checkpoint_files(), "config.json": json.dumps(config).encode()}
    refused_at_finalise(entrant, storage, files, "auto_map")


@pytest.mark.parametrize(
    "name, words",
    [("../config.json", "subfolders"), ("/etc/passwd", "absolute paths"), ("config\x00.json", "NUL bytes")],
)
def test_unsafe_file_names_are_refused_before_a_byte_is_stored(entrant, storage, name, words):
    submission = entrant.start()
    before = storage_tree(storage)
    response = entrant.create(submission, name, 10)
    assert response.status_code == 400 and words in response.get_json()["detail"]
    assert storage_tree(storage) == before


def test_a_second_team_cannot_touch_the_first_teams_upload(entrant, eligible_team, storage):
    submission = entrant.start()
    url = entrant.create(submission, "config.json", 10).headers["Location"]
    assert entrant.patch(url, 0, b"{}").status_code == 204
    before = storage_tree(storage)
    other = eligible_team("bob@baltic.eu", "Baltic Tensor")
    assert other.patch(url, 2, b"{}").status_code == 404
    assert other.head(url).status_code == 404
    assert other.client.delete(url, headers={**other.headers, **TUS}).status_code == 404
    assert other.create(submission, "tokenizer.json", 2).status_code == 404
    assert other.client.get(f"/api/v1/submissions/{submission}", headers=other.headers).status_code == 404
    assert storage_tree(storage) == before


def test_uploads_past_the_size_limit_are_refused(eligible_team, limited_challenge, storage):
    entrant = eligible_team("cy@celtic.eu", "Celtic AI", slug=limited_challenge)
    submission = entrant.start(slug=limited_challenge)
    before = storage_tree(storage)
    too_big = entrant.create(submission, "model.safetensors", 4001)
    assert too_big.status_code == 413 and "4,000 bytes" in too_big.get_json()["detail"]
    assert storage_tree(storage) == before
    url = entrant.create(submission, "model.safetensors", 3000).headers["Location"]
    assert entrant.create(submission, "config.json", 1001).status_code == 413
    before = storage_tree(storage)
    past = entrant.patch(url, 0, b"x" * 3001)
    assert past.status_code == 413 and "past the 3,000 bytes" in past.get_json()["detail"]
    assert storage_tree(storage) == before
