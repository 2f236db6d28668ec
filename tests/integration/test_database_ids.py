"""A number too large for the database, wherever a caller can send an id or a byte count outside the URL
(tus headers and metadata, JSON bodies), is refused with a 4xx, never an OverflowError 500."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.db import MAX_DATABASE_ID, database_id
from tests.helpers import bearer, meta

TUS = {"Tus-Resumable": "1.0.0"}
HUGE = [2**31, 2**63, 10**30]


@pytest.fixture
def token(client, db, make_user):
    """`token(email, role)`: the Authorization header of a new account's API token."""
    return lambda email, role=Role.entrant: bearer(client, make_user, db, email, role)


@pytest.mark.parametrize("number", HUGE)
def test_a_submission_id_too_large_for_the_database_in_tus_metadata_is_not_found(client, token, number):
    headers = {
        **token("ada@aurora.fi"),
        **TUS,
        "Upload-Length": "10",
        "Upload-Metadata": meta(filename="config.json", submission=str(number)),
    }
    response = client.post("/api/v1/uploads", headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert response.get_json()["detail"] == "There is no such submission in your team."


@pytest.mark.parametrize("header", ["Upload-Length", "Upload-Offset"])
def test_a_byte_count_too_large_to_store_is_too_large_not_malformed(client, token, header):
    headers = {
        **token("ada@aurora.fi"),
        **TUS,
        "Upload-Length": "10",
        header: str(10**23),
        "Upload-Metadata": meta(filename="config.json", submission="1"),
        "Content-Type": "application/offset+octet-stream",
    }
    response = (
        client.post("/api/v1/uploads", headers=headers)
        if header == "Upload-Length"
        else client.patch("/api/v1/uploads/nope", data=b"x", headers=headers)
    )
    assert response.status_code == 400
    assert "too large" in response.get_json()["detail"]
    assert "whole number" not in response.get_json()["detail"]


@pytest.mark.parametrize("number", HUGE)
def test_judging_bodies_refuse_ids_out_of_the_databases_range(client, token, challenge, number):
    judge = token("jo@judges.eu", Role.judge)
    conflict = client.post(
        f"/api/v1/judging/{challenge}/conflicts", json={"team_id": number, "reason": "I advise"}, headers=judge
    )
    assert conflict.status_code == 422 and "team_id" in conflict.get_json()["errors"]
    assignment = client.post(
        f"/api/v1/judging/{challenge}/assignments",
        json={"judge_id": number, "team_id": 1},
        headers=token("olga@lagc.eu", Role.organiser),
    )
    assert assignment.status_code == 422 and "judge_id" in assignment.get_json()["errors"]


def test_the_openapi_document_states_the_range_of_ids_in_bodies(client):
    schema = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/judging/{slug}/conflicts"]["post"]
    team_id = schema["requestBody"]["content"]["application/json"]["schema"]["properties"]["team_id"]
    assert team_id["maximum"] == MAX_DATABASE_ID and team_id["minimum"] == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1),
        ("007", 7),
        (str(MAX_DATABASE_ID), MAX_DATABASE_ID),
        (str(MAX_DATABASE_ID + 1), None),
        ("0", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
        ("٣", None),
        (" 1", None),
        (5, 5),
        (True, None),
        (10**30, None),
    ],
)
def test_database_id_reads_only_ids_the_database_can_hold(text, expected):
    assert database_id(text) == expected
