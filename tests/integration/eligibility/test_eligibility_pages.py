"""Eligibility pages: the entrant's form and verdict, the organisers' queue and decisions, who may see what."""

from __future__ import annotations

import io
import json

from sqlmodel import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.eligibility.models import EligibilityApplication
from tests.helpers import sign_in, submit

PAGE = "/c/lagc-2024/eligibility"


def _form(**changes) -> dict:
    """The application form as a browser would post it, with some fields changed."""
    data = {
        "legal_name": "Aurora Language Labs Oy",
        "country": "FI",
        "founded_on": "2021-05-10",
        "staff_headcount": "24",
        "annual_turnover_eur": "1800000",
        "balance_sheet_total_eur": "2500000",
        "accounts_approved": "yes",
        "public_bodies_control_percent": "0",
        "responsible_ai_commitment": "y",
        "large_scale_ai_experience": "We trained a 13B Finnish-English model on LUMI in 2023.",
        "planned_parameters": "34000000000",
        "planned_from_scratch": "yes",
        "partner_enterprises-0-name": "Nordic Seed Fund",
        "partner_enterprises-0-stake_percent": "30",
        "partner_enterprises-0-investor_type": "venture_capital",
        "partner_enterprises-0-staff_headcount": "3",
        "partner_enterprises-0-annual_turnover_eur": "200000",
        "partner_enterprises-0-balance_sheet_total_eur": "900000",
        "send": "Send the application",
    }
    return {**data, **changes}


def _entrant(client, team, email="ada@aurora.fi", name="Aurora Labs") -> int:
    _, team_id = team(email, name)
    sign_in(client, email)
    return team_id


def _switch(client, email: str) -> None:
    """Sign out, then sign in as someone else."""
    assert submit(client, "/signout", {}, page="/dashboard").status_code == 302
    sign_in(client, email)


def test_an_entrant_sends_the_form_and_sees_the_verdict_with_reasons(client, team, db):
    _entrant(client, team)
    response = submit(client, PAGE, _form(), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Version 1 of your application is saved." in html
    assert 'data-eligibility="needs_review"' in html
    assert "An organiser will check your evidence" in html and "venture capital company" in html
    with db() as session:
        stored = session.exec(select(EligibilityApplication)).one()
        assert stored.document["partner_enterprises"][0]["investor_type"] == "venture_capital"
        assert stored.document["previous_period"] is None


def test_mistakes_in_the_form_are_shown_on_their_fields_and_nothing_is_saved(client, team, db):
    _entrant(client, team)
    response = submit(
        client, PAGE, _form(legal_name="", staff_headcount="-3", **{"partner_enterprises-0-stake_percent": "60"})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "legal_name: this field is required" in html and "must not be negative" in html
    assert "a stake over 50% makes it a linked enterprise" in html
    assert 'id="staff_headcount-errors"' in html
    with db() as session:
        assert session.exec(select(EligibilityApplication)).all() == []


def test_add_row_adds_a_partner_row_without_saving(client, team, db):
    _entrant(client, team)
    response = submit(client, PAGE, {**_form(), "add_partner": "Add a partner row", "send": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="partner_enterprises-3-name"' in html
    assert 'value="Nordic Seed Fund"' in html
    with db() as session:
        assert session.exec(select(EligibilityApplication)).all() == []


def test_an_entrant_can_paste_or_upload_the_json_document(client, team, document, db):
    _entrant(client, team)
    pasted = submit(client, PAGE, {"json-text": json.dumps(document()), "json-send_json": "Send"})
    assert pasted.status_code == 302
    upload = (io.BytesIO(json.dumps(document(country="ZZ")).encode()), "application.json")
    bad = submit(client, PAGE, {"json-upload": upload, "json-send_json": "Send"}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "unknown country code" in bad.get_data(as_text=True)
    garbage = submit(client, PAGE, {"json-text": "{nope", "json-send_json": "Send"})
    assert garbage.status_code == 422 and "not valid JSON" in garbage.get_data(as_text=True)
    with db() as session:
        assert len(session.exec(select(EligibilityApplication)).all()) == 1


def test_the_form_is_prefilled_with_the_latest_version(client, team):
    _entrant(client, team)
    submit(client, PAGE, _form(legal_name="Aurora Two Oy"))
    assert 'value="Aurora Two Oy"' in client.get(PAGE).get_data(as_text=True)


def test_the_organiser_confirms_experience_from_the_queue(client, team, make_user, db):
    _entrant(client, team)
    submit(client, PAGE, _form())
    make_user("org@lagc.eu", Role.organiser)
    _switch(client, "org@lagc.eu")
    console = client.get("/dashboard").get_data(as_text=True)
    assert 'data-eligibility-queue="1"' in console
    queue = client.get("/organiser/eligibility").get_data(as_text=True)
    assert "Aurora Labs" in queue
    with db() as session:
        application_id = session.exec(select(EligibilityApplication.id)).one()
    detail = f"/eligibility/applications/{application_id}"
    done = submit(
        client, f"/organiser/eligibility/applications/{application_id}/confirm", {}, page=detail, follow_redirects=True
    )
    assert "Experience confirmed: Aurora Labs is now eligible." in done.get_data(as_text=True)
    assert "No application is waiting" in client.get("/organiser/eligibility").get_data(as_text=True)


def test_an_override_without_justification_is_refused_on_the_page(client, team, make_user, db):
    _entrant(client, team)
    submit(client, PAGE, _form())
    make_user("org@lagc.eu", Role.organiser)
    _switch(client, "org@lagc.eu")
    with db() as session:
        application_id = session.exec(select(EligibilityApplication.id)).one()
    detail = f"/eligibility/applications/{application_id}"
    url = f"/organiser/eligibility/applications/{application_id}/override"
    refused = submit(client, url, {"status": "eligible", "justification": "ok"}, page=detail, follow_redirects=True)
    assert "at least 20 characters" in refused.get_data(as_text=True)
    submit(
        client,
        url,
        {"status": "eligible", "justification": "Experience verified with LUMI's user office."},
        page=detail,
    )
    with db() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "eligibility.overridden")).one()


def test_entrants_see_only_their_own_teams_application(client, team, db):
    _entrant(client, team)
    submit(client, PAGE, _form())
    with db() as session:
        application_id = session.exec(select(EligibilityApplication.id)).one()
    submit(client, "/signout", {}, page="/dashboard")
    _entrant(client, team, "bo@baltic.lv", "Baltic Tensor")
    assert "Aurora" not in client.get(PAGE).get_data(as_text=True)
    assert client.get(f"/eligibility/applications/{application_id}").status_code in (403, 404)


def test_judges_read_verdicts_but_cannot_decide(client, team, make_user, db):
    _entrant(client, team)
    submit(client, PAGE, _form())
    make_user("judge@lagc.eu", Role.judge)
    _switch(client, "judge@lagc.eu")
    with db() as session:
        application_id = session.exec(select(EligibilityApplication.id)).one()
    html = client.get(f"/eligibility/applications/{application_id}").get_data(as_text=True)
    assert 'data-eligibility="needs_review"' in html and "Override the verdict" not in html
    assert client.post(f"/organiser/eligibility/applications/{application_id}/confirm").status_code in (400, 403)


def test_the_entrant_dashboard_shows_the_eligibility_status(client, team):
    _entrant(client, team)
    assert 'data-eligibility="not_applied"' in client.get("/dashboard").get_data(as_text=True)
