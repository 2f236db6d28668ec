"""The JSON API: problem+json errors, token authentication, validation, and the OpenAPI document."""
from __future__ import annotations

import re

from app.accounts.models import Role
from tests.helpers import bearer


def test_the_openapi_document_lists_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served, automatic = set(), {"HEAD", "OPTIONS"}  # Flask adds these to every rule unless a view asks for them
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule
            for argument in rule.arguments:
                path = re.sub(rf"<[^<>]*?\b{argument}>", "{" + argument + "}", path)
            served |= {(path, method) for method in rule.methods}
    assert {(p, m) for p, m in served if m not in automatic} <= documented
    assert documented <= served
    assert document["openapi"].startswith("3.")


def test_the_challenges_are_public(client, challenge):
    body = client.get("/api/v1/challenges").get_json()
    lagc = next(c for c in body["challenges"] if c["slug"] == challenge)
    assert lagc["prize"]["pool_cents"] == 100_000_000 and lagc["prize"]["max_winners"] == 4
    assert [p["key"] for p in lagc["phases"]][0] == "registration"


def test_an_unknown_challenge_is_a_404_problem(client):
    response = client.get("/api/v1/challenges/nope")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "No challenge 'nope'."


def test_an_unknown_api_route_is_a_404_problem(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_api_routes_for_signed_in_people_need_a_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer lagc_nonsense"}).status_code == 401


def test_team_registration_validates_fields_one_by_one(client, make_user, db, challenge):
    headers = bearer(client, make_user, db, "eve@example.eu")
    response = client.post("/api/v1/teams", json={"name": "x", "colour": "red"}, headers=headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"challenge", "name", "colour"}
    assert client.post("/api/v1/teams", data="{not json", headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 400
    assert client.post("/api/v1/teams", data="name=x", headers=headers).status_code == 415


def test_an_entrant_registers_a_team_through_the_api_once(client, make_user, db, challenge):
    headers = bearer(client, make_user, db, "eve@example.eu")
    created = client.post("/api/v1/teams", json={"challenge": challenge, "name": "Eve Labs"}, headers=headers)
    assert created.status_code == 201 and created.get_json()["name"] == "Eve Labs"
    again = client.post("/api/v1/teams", json={"challenge": challenge, "name": "Eve 2"}, headers=headers)
    assert again.status_code == 409


def test_a_judges_token_cannot_register_a_team(client, make_user, db, challenge):
    headers = bearer(client, make_user, db, "judge@example.eu", Role.judge)
    response = client.post("/api/v1/teams", json={"challenge": challenge, "name": "J"}, headers=headers)
    assert response.status_code == 403 and response.mimetype == "application/problem+json"


def test_the_public_check_endpoints_answer_429_with_retry_after_when_hammered(client, limiter_clock):
    for path, kwargs in (("/api/v1/eligibility/check", {"json": {}}),
                         ("/api/v1/licences/check", {"data": {}, "content_type": "multipart/form-data"})):
        statuses = [client.post(path, **kwargs).status_code for _ in range(61)]
        assert 429 not in statuses[:60] and statuses[60] == 429, path
        response = client.post(path, **kwargs)
        assert response.mimetype == "application/problem+json" and int(response.headers["Retry-After"]) > 0
