"""Every JSON body (the API's, and the eligibility form's JSON box) is checked for size and depth before it is
parsed: deeply nested brackets get a 400 that names the limit, never a 500 from a RecursionError."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.jsonbody import MAX_JSON_BYTES, MAX_JSON_DEPTH
from tests.helpers import bearer, sign_in, submit

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def token(client, db, make_user):
    """`token(email, role)`: JSON headers with a new account's API token."""
    return lambda email, role=Role.entrant: {**bearer(client, make_user, db, email, role), **JSON}


@pytest.fixture
def entrant_team(client, token, challenge):
    """An entrant with a registered team: (headers, team id)."""
    headers = token("ada@aurora.fi")
    created = client.post("/api/v1/teams", json={"challenge": challenge, "name": "Aurora Labs"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    return headers, created.get_json()["id"]


def _refused_for_depth(response) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert f"more than {MAX_JSON_DEPTH} levels" in response.get_json()["detail"]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_400_naming_the_limit_on_the_public_eligibility_check(client, body):
    _refused_for_depth(client.post("/api/v1/eligibility/check", data=body, headers=JSON))


def test_deeply_nested_json_is_a_400_on_team_registration_and_submissions(client, token, entrant_team, challenge):
    headers, team_id = entrant_team
    _refused_for_depth(client.post("/api/v1/teams", data=DEEP, headers=token("bo@baltic.lv")))
    _refused_for_depth(client.post(f"/api/v1/challenges/{challenge}/submissions", data=DEEP, headers=headers))
    _refused_for_depth(client.post(f"/api/v1/teams/{team_id}/eligibility", data=DEEP_OBJECT, headers=headers))


def test_deeply_nested_json_is_a_400_for_judges_and_organisers_too(client, token, challenge):
    _refused_for_depth(
        client.post(f"/api/v1/judging/{challenge}/conflicts", data=DEEP, headers=token("jo@judges.eu", Role.judge))
    )
    organiser = token("olga@lagc.eu", Role.organiser)
    _refused_for_depth(client.post(f"/api/v1/leaderboard/{challenge}/freeze", data=DEEP, headers=organiser))
    _refused_for_depth(client.post(f"/api/v1/prizes/{challenge}/confirm", data=DEEP, headers=organiser))


def test_a_body_over_the_size_limit_is_a_413_naming_the_limit(client, token):
    body = '{"challenge": "x", "name": "' + "a" * MAX_JSON_BYTES + '"}'
    response = client.post("/api/v1/teams", data=body, headers=token("ada@aurora.fi"))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert f"the limit is {MAX_JSON_BYTES:,} bytes" in response.get_json()["detail"]


def test_a_json_null_body_must_be_an_object_not_invalid_json(client, token):
    response = client.post("/api/v1/teams", data="null", headers=token("ada@aurora.fi"))
    assert response.status_code == 422
    assert "must be a JSON object" in response.get_json()["detail"]
    assert "not valid JSON" not in response.get_json()["detail"]


def test_a_json_null_application_must_be_an_object(client):
    response = client.post("/api/v1/eligibility/check", data="null", headers=JSON)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"$": ["expected an object"]}


def test_nan_is_not_json(client, token):
    response = client.post("/api/v1/eligibility/check", data='{"staff_headcount": NaN}', headers=JSON)
    assert response.status_code == 400 and "NaN is not a JSON number" in response.get_json()["detail"]


def _post_json_box(client, page: str, text: str):
    """Send the eligibility page's JSON box as a browser would (with the page's CSRF token)."""
    return submit(client, page, {"json-text": text, "json-send_json": "Send the JSON document"})


def _signed_in_entrant(client, entrant_team) -> None:
    assert sign_in(client, "ada@aurora.fi").status_code == 302


def test_the_eligibility_forms_json_box_refuses_deep_nesting_as_a_form_error(client, entrant_team, challenge):
    _signed_in_entrant(client, entrant_team)
    response = _post_json_box(client, f"/c/{challenge}/eligibility", DEEP)
    assert response.status_code == 422
    assert f"more than {MAX_JSON_DEPTH} levels" in response.get_data(as_text=True)


def test_the_eligibility_forms_json_box_refuses_a_document_over_the_size_limit(client, entrant_team, challenge):
    _signed_in_entrant(client, entrant_team)
    response = _post_json_box(client, f"/c/{challenge}/eligibility", '["' + "a" * MAX_JSON_BYTES + '"]')
    assert response.status_code == 422
    assert f"the limit is {MAX_JSON_BYTES:,} bytes" in response.get_data(as_text=True)
