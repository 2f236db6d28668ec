"""`POST /api/v1/licences/check`: anyone checks a model card and LICENSE before submitting; bad input is a 4xx."""

from __future__ import annotations

import io

from app.licences.api import MAX_CHECK_BYTES
from tests.factories import MIT_LICENSE, model_card as card

URL = "/api/v1/licences/check"


def upload(client, files: dict[str, bytes], url: str = URL):
    data = {name: (io.BytesIO(content), name) for name, content in files.items()}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_a_model_card_and_its_licence_file_pass_without_an_account(client):
    response = upload(client, {"README.md": card("license: mit"), "LICENSE": MIT_LICENSE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "pass" and body["licence"] == "mit"
    assert len(body["reasons"]) == 2


def test_the_check_gives_the_same_verdict_as_a_submission_for_a_fine_tune(client):
    body = upload(client, {"README.md": card("license: llama3\nbase_model: meta-llama/Meta-Llama-3-8B")}).get_json()
    assert body["verdict"] == "review"
    assert any("base_model" in reason for reason in body["reasons"])


def test_a_check_with_no_files_is_a_400_problem(client):
    response = client.post(URL, data={"note": "nothing"}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "No files" in response.get_json()["detail"]


def test_a_body_that_is_not_multipart_is_a_415_problem(client):
    response = client.post(URL, json={"README.md": "license: mit"})
    assert response.status_code == 415 and response.mimetype == "application/problem+json"


def test_an_enormous_file_is_a_413_problem(client):
    response = upload(client, {"README.md": b"x" * (MAX_CHECK_BYTES + 1)})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_an_enormous_chunked_body_without_a_length_is_a_413_problem(client):
    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="f"; filename="README.md"\r\n\r\n'
        for _ in range(MAX_CHECK_BYTES // 65536 + 2):
            yield b"y" * 65536
        yield b"\r\n--b--\r\n"

    # As a WSGI server hands over a chunked request: the body already de-chunked, no Content-Length.
    response = client.post(
        URL,
        input_stream=io.BytesIO(b"".join(chunks())),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413


def test_a_binary_readme_gets_a_verdict_not_an_error(client):
    response = upload(client, {"README.md": bytes(range(256)) * 40})
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "fail"


def test_a_check_can_use_a_named_challenges_policy(client, challenge):
    response = upload(
        client, {"README.md": card("license: mit"), "LICENSE": MIT_LICENSE}, url=f"{URL}?challenge={challenge}"
    )
    assert response.get_json()["verdict"] == "pass"
    assert upload(client, {"LICENSE": MIT_LICENSE}, url=f"{URL}?challenge=nope").status_code == 404
