"""Eligibility over the API: the public check, a team's versions, organiser decisions, the audit trail."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.eligibility.models import EligibilityApplication
from app.eligibility.services import team_is_eligible

CHECK = "/api/v1/eligibility/check"


def _partner(stake, investor_type=None):
    return {
        "name": "Nordic Seed Fund",
        "stake_percent": stake,
        "staff_headcount": 3,
        "annual_turnover_eur": 200_000,
        "balance_sheet_total_eur": 900_000,
        "investor_type": investor_type,
    }


def test_anyone_can_check_an_application_without_an_account(client, document):
    response = client.post(CHECK, json=document())
    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict["status"] == "needs_review"
    experience = next(c for c in verdict["checks"] if c["rule"] == "experience")
    assert experience["outcome"] == "review" and "organiser" in experience["reason"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"legal_name": None}, "legal_name", "required"),
        ({"country": "ZZ"}, "country", "unknown country code"),
        ({"staff_headcount": -3}, "staff_headcount", "negative"),
        ({"annual_turnover_eur": -1}, "annual_turnover_eur", "negative"),
        ({"public_bodies_control_percent": 120}, "public_bodies_control_percent", "between 0 and 100"),
        ({"partner_enterprises": [_partner(120)]}, "partner_enterprises[0].stake_percent", "between 0 and 100"),
        ({"partner_enterprises": [_partner(60)]}, "partner_enterprises[0].stake_percent", "linked enterprise"),
    ],
)
def test_bad_input_is_a_422_with_a_message_for_the_field(client, document, change, field, words):
    data = document(**change)
    if change.get("legal_name", "") is None:
        del data["legal_name"]
    response = client.post(CHECK, json=data)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert words in errors[field][0]


def test_every_bad_field_gets_its_own_message_at_once(client, document):
    data = document(country="XX", staff_headcount=-1, partner_enterprises=[_partner(60)])
    del data["responsible_ai_commitment"]
    errors = client.post(CHECK, json=data).get_json()["errors"]
    assert set(errors) == {
        "country",
        "staff_headcount",
        "partner_enterprises[0].stake_percent",
        "responsible_ai_commitment",
    }


def test_a_body_that_is_not_json_is_refused_without_a_crash(client):
    assert client.post(CHECK, data="legal_name=x").status_code == 415
    assert client.post(CHECK, data="{nope", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post(CHECK, json=[1, 2]).status_code == 422


def test_the_check_uses_the_named_challenges_rules(client, challenge, document):
    assert client.post(f"{CHECK}?challenge={challenge}", json=document()).status_code == 200
    assert client.post(f"{CHECK}?challenge=nope", json=document()).status_code == 404


def test_the_openapi_document_carries_the_application_schema(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/eligibility/check"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "partner_enterprises" in schema["properties"] and operation["x-access"] == "public"


def test_every_version_of_a_teams_application_is_kept(client, team, document, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    url = f"/api/v1/teams/{team_id}/eligibility"
    assert client.post(url, json=document(), headers=headers).status_code == 201
    body = client.post(url, json=document(staff_headcount=30), headers=headers).get_json()
    assert body["version"] == 2 and [v["version"] for v in body["versions"]] == [2, 1]
    with db() as session:
        stored = session.exec(select(EligibilityApplication).order_by(EligibilityApplication.version)).all()
        assert [a.document["staff_headcount"] for a in stored] == [24, 30]


def test_a_bad_team_application_is_a_422_and_stores_nothing(client, team, document, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    response = client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(country="ZZ"), headers=headers)
    assert response.status_code == 422 and "country" in response.get_json()["errors"]
    with db() as session:
        assert session.exec(select(EligibilityApplication)).all() == []


def test_an_entrant_of_another_team_gets_404_on_its_application(client, team, document):
    headers_a, team_a = team("ada@aurora.fi", "Aurora Labs")
    headers_b, _ = team("bo@baltic.lv", "Baltic Tensor")
    client.post(f"/api/v1/teams/{team_a}/eligibility", json=document(), headers=headers_a)
    assert client.get(f"/api/v1/teams/{team_a}/eligibility", headers=headers_b).status_code == 404
    assert client.post(f"/api/v1/teams/{team_a}/eligibility", json=document(), headers=headers_b).status_code == 404
    assert client.get(f"/api/v1/teams/{team_a}/eligibility", headers=headers_a).status_code == 200


def test_the_team_becomes_eligible_once_an_organiser_confirms_the_experience(client, team, document, organiser, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    body = client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(), headers=headers).get_json()
    assert body["status"] == "needs_review" and body["may_submit_checkpoints"] is False
    application_id = body["versions"][0]["id"]
    response = client.post(f"/api/v1/eligibility/applications/{application_id}/confirm-experience", headers=organiser)
    assert response.status_code == 200 and response.get_json()["status"] == "eligible"
    assert (
        client.post(
            f"/api/v1/eligibility/applications/{application_id}/confirm-experience", headers=organiser
        ).status_code
        == 409
    )
    with db() as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.action.like("eligibility.%")).order_by(AuditEvent.id)
        ).all()
        assert actions == ["eligibility.application_submitted", "eligibility.experience_confirmed"]


def test_entrants_cannot_take_organiser_decisions(client, team, document):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    body = client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(), headers=headers).get_json()
    url = f"/api/v1/eligibility/applications/{body['versions'][0]['id']}/confirm-experience"
    assert client.post(url, headers=headers).status_code == 403


def test_an_override_needs_a_written_justification(client, team, document, organiser, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    body = client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(), headers=headers).get_json()
    url = f"/api/v1/eligibility/applications/{body['versions'][0]['id']}/override"
    missing = client.post(url, json={"status": "ineligible"}, headers=organiser)
    assert missing.status_code == 422 and "justification" in missing.get_json()["errors"]
    short = client.post(url, json={"status": "ineligible", "justification": "no"}, headers=organiser)
    assert short.status_code == 422 and "justification" in short.get_json()["errors"]
    reason = "The registered office moved to Singapore in 2024, per the trade register."
    done = client.post(url, json={"status": "ineligible", "justification": reason}, headers=organiser).get_json()
    assert done["status"] == "ineligible" and done["override"]["justification"] == reason
    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "eligibility.overridden")).one()
        assert event.details["justification"] == reason and event.details["status"] == "ineligible"
        assert team_is_eligible(session, team_id) == (False, f"An organiser found your team not eligible: {reason}")


def test_a_new_version_supersedes_an_earlier_override(client, team, document, organiser):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    url = f"/api/v1/teams/{team_id}/eligibility"
    first = client.post(url, json=document(), headers=headers).get_json()["versions"][0]["id"]
    client.post(
        f"/api/v1/eligibility/applications/{first}/override",
        headers=organiser,
        json={"status": "eligible", "justification": "Experience checked by phone with the CTO."},
    )
    assert client.get(url, headers=headers).get_json()["status"] == "eligible"
    body = client.post(url, json=document(large_scale_ai_experience="A new, unchecked claim."), headers=headers)
    assert body.get_json()["status"] == "needs_review" and body.get_json()["override"] is None
    stale = client.post(f"/api/v1/eligibility/applications/{first}/confirm-experience", headers=organiser)
    assert stale.status_code == 409


def test_the_checkpoint_gate_stays_closed_until_the_team_is_eligible(client, team, document, organiser, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    with db() as session:
        assert team_is_eligible(session, team_id)[0] is False
        assert "not sent" in team_is_eligible(session, team_id)[1]
    body = client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(), headers=headers).get_json()
    with db() as session:
        assert team_is_eligible(session, team_id) == (
            False,
            "Your eligibility application is waiting for an organiser's review.",
        )
    client.post(f"/api/v1/eligibility/applications/{body['versions'][0]['id']}/confirm-experience", headers=organiser)
    with db() as session:
        assert team_is_eligible(session, team_id) == (True, "Your team is eligible.")


def test_confirmed_experience_carries_over_while_its_evidence_is_unchanged(client, team, document, organiser):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    url = f"/api/v1/teams/{team_id}/eligibility"
    first = client.post(url, json=document(), headers=headers).get_json()["versions"][0]["id"]
    client.post(f"/api/v1/eligibility/applications/{first}/confirm-experience", headers=organiser)
    assert client.post(url, json=document(staff_headcount=40), headers=headers).get_json()["status"] == "eligible"


def test_an_ineligible_application_gives_the_failing_reason(client, team, document, db):
    headers, team_id = team("ada@aurora.fi", "Aurora Labs")
    client.post(f"/api/v1/teams/{team_id}/eligibility", json=document(country="US"), headers=headers)
    with db() as session:
        ok, reason = team_is_eligible(session, team_id)
    assert ok is False and "United States" in reason
