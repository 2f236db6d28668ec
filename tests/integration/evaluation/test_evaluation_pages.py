"""What entrants and organisers see of evaluations: the live team page, its JSON, the API, the organiser view."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from app.accounts.models import Role
from evaluation.models import Evaluation, EvaluationState as S
from evaluation.status import status_of
from tests.helpers import bearer, sign_in, submit

from ._platform import accepted_submission, challenge_text, cycle_until, make_challenge, make_team


def _one_finished(app, db, settings):
    with db() as session:
        challenge = make_challenge(session, challenge_text())
        user, team = make_team(session, challenge, "owner@example.eu")
        make_team(session, challenge, "rival@example.eu")
        accepted_submission(session, settings, challenge, team, user)
    [ev] = cycle_until(app.extensions["lagc_engine"], settings, lambda evs: evs and S(evs[0].state) == S.finished)
    return ev


def test_the_team_sees_its_evaluation_with_scores_and_a_live_status_endpoint(app, client, db, settings):
    ev = _one_finished(app, db, settings)
    sign_in(client, "owner@example.eu")
    page = client.get("/c/demo/evaluations").get_data(as_text=True)
    assert f'data-evaluation="{ev.id}"' in page and "evaluation-live.js" in page and "<script>" not in page
    assert "Finished" in page and "0.2500" in page
    assert '<table class="scores">' in page and "&lt;table" not in page  # the card is HTML, not escaped text
    assert "Runs as lm-eval&#39;s hf backend on the CPU" in page and "has no GPUs" in page  # the planned layout
    status = client.get(f"/evaluations/{ev.id}/status.json").get_json()
    assert status["state"] == "finished" and status["final"] and "0.2500" in status["html"]
    assert {s["task"] for s in status["scores"]} == {"lagc_capitals_mc", "lagc_capitals_yesno"}


def test_another_team_gets_404_for_the_status_page_and_api(app, client, db, settings, make_user):
    ev = _one_finished(app, db, settings)
    sign_in(client, "rival@example.eu")
    assert client.get(f"/evaluations/{ev.id}/status.json").status_code == 404
    headers = bearer(client, make_user, db, "stranger@example.eu")
    assert client.get(f"/api/v1/evaluations/{ev.id}", headers=headers).status_code == 404


def test_scripts_read_the_status_through_the_api(app, client, db, settings):
    ev = _one_finished(app, db, settings)
    from app.accounts.models import User
    from app.accounts.services import issue_token

    with db() as session:
        owner = session.exec(select(User).where(User.email == "owner@example.eu")).one()
        _, token = issue_token(session, owner, "script")
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/evaluations/{ev.id}", headers=headers).get_json()
    assert body["state"] == "finished" and len(body["scores"]) == 2
    listing = client.get("/api/v1/challenges/demo/evaluations", headers=headers).get_json()
    assert [e["id"] for e in listing["evaluations"]] == [ev.id]
    with db() as session:  # the answer is the status the pages read, exactly
        expected = status_of(session, session.get(Evaluation, ev.id), organiser=False)
    assert body == json.loads(json.dumps(expected)) == listing["evaluations"][0]


def test_the_openapi_document_describes_the_status_with_its_response_model(client):
    document = client.get("/api/v1/openapi.json").get_json()
    answer = document["paths"]["/api/v1/evaluations/{evaluation_id}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EvaluationStatus"}
    schema = document["components"]["schemas"]["EvaluationStatus"]
    assert "queue_position" in schema["required"] and schema["properties"]["state"]["enum"][0] == "queued"


def test_an_organiser_sees_evaluations_per_cluster_and_retries_a_finished_one_only_when_failed(
    app, client, db, settings, make_user
):
    ev = _one_finished(app, db, settings)
    make_user("boss@example.eu", Role.organiser)
    sign_in(client, "boss@example.eu")
    page = client.get("/organiser/evaluations").get_data(as_text=True)
    assert 'data-cluster="local"' in page and f'data-evaluation="{ev.id}"' in page
    response = submit(
        client, f"/organiser/evaluations/{ev.id}/retry", {}, page="/organiser/evaluations", follow_redirects=True
    )
    assert "only failed or cancelled ones are retried" in response.get_data(as_text=True)
    with Session(app.extensions["lagc_engine"]) as session:
        assert S(session.get(Evaluation, ev.id).state) == S.finished
