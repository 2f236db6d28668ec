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
    assert (
        client.post(
            "/api/v1/teams", data="{not json", headers={**headers, "Content-Type": "application/json"}
        ).status_code
        == 400
    )
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
    for path, kwargs in (
        ("/api/v1/eligibility/check", {"json": {}}),
        ("/api/v1/licences/check", {"data": {}, "content_type": "multipart/form-data"}),
    ):
        statuses = [client.post(path, **kwargs).status_code for _ in range(61)]
        assert 429 not in statuses[:60] and statuses[60] == 429, path
        response = client.post(path, **kwargs)
        assert response.mimetype == "application/problem+json" and int(response.headers["Retry-After"]) > 0


# Operations whose answer is still described by a hand-written schema (or is no JSON document: tus, the
# OpenAPI document itself). A new route describes its answer with a response model instead.
HAND_WRITTEN = {
    "GET /challenges/<slug>/counted",
    "POST /challenges/<slug>/counted",
    "GET /openapi.json",
    "GET /leaderboard",
    "GET /leaderboard/<slug>/freeze",
    "POST /leaderboard/<slug>/freeze",
    "DELETE /leaderboard/<slug>/freeze",
    "POST /prizes/<slug>/preview",
    "OPTIONS /uploads",
    "POST /uploads",
    "HEAD /uploads/<upload_id>",
    "PATCH /uploads/<upload_id>",
    "DELETE /uploads/<upload_id>",
    # byte for byte the JSON of `flask scores paired` (scoring.paired_json), so it is not re-serialised by a model
    "GET /leaderboard/compare",
    # a file's bytes (application/octet-stream) for a site's agent, no JSON document
    "GET /sites/leases/<int:evaluation_id>/<int:attempt>/files/<sha256>",
}


def test_every_new_api_answer_is_described_by_a_response_model(app):
    from app.api import OPERATIONS

    without_model = {f"{op.method} {op.rule}" for op in OPERATIONS if op.response_model is None}
    assert without_model <= HAND_WRITTEN, "describe these answers with response_model=: " + ", ".join(
        sorted(without_model - HAND_WRITTEN)
    )


def test_the_openapi_document_takes_the_challenge_answer_from_its_model(client):
    document = client.get("/api/v1/openapi.json").get_json()
    answer = document["paths"]["/api/v1/challenges/{slug}"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {"$ref": "#/components/schemas/ChallengeOut"}
    schemas = document["components"]["schemas"]
    assert schemas["PhaseOut"]["properties"]["starts_at"]["format"] == "date-time"
    assert {"slug", "phases", "actions", "prize"} <= set(schemas["ChallengeOut"]["required"])
    me = document["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert me == {"$ref": "#/components/schemas/Me"} and schemas["Role"]["enum"] == ["entrant", "judge", "organiser"]


def test_the_challenge_answer_writes_its_moments_as_before_the_models(client, db, challenge):
    from app.challenges.services import get_challenge, phases_of

    body = client.get(f"/api/v1/challenges/{challenge}").get_json()
    with db() as session:
        phases = phases_of(session, get_challenge(session, challenge))
        expected = [(p.key, p.starts_at.isoformat(), p.ends_at.isoformat()) for p in phases]
    assert [(p["key"], p["starts_at"], p["ends_at"]) for p in body["phases"]] == expected
    assert set(body["actions"]) == {"register", "apply", "submit"} and body["actions"]["submit"]["allowed"]
    assert body["call_date"] == "2023-11-16"
