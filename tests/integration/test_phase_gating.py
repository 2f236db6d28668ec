"""Phases gate entrants: team registration and eligibility applications are refused before the phase opens and
after it closes, on the pages and over the API, with the reason and 409, and nothing is written. Organisers'
decisions are not gated. (Checkpoint submissions: checkpoints/test_checkpoint_phase_gate.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.challenges.services import get_challenge, load_config_text
from app.db import utcnow
from app.eligibility.models import EligibilityApplication
from app.settings import BUNDLED_CHALLENGES
from app.teams.models import Team
from tests import factories
from tests.factories import APPLICATION, IN_2024_REGISTRATION, open_config_text
from tests.helpers import bearer, csrf_token, sign_in, submit

REGISTRATION_CLOSED = "Team registration closed on 16 Jan 2024 16:00 UTC."
APPLICATIONS_CLOSED = "Eligibility applications closed on 16 Jan 2024 16:00 UTC."
PROBLEM = "application/problem+json"


@pytest.fixture
def upcoming_challenge(db):
    """A challenge whose registration opens in a month (`open_config_text` around a moment 60 days ahead)."""
    with db() as session:
        return factories.open_challenge(
            session, factories.bundled_text(slug="future-ai"), now=utcnow() + timedelta(days=60)
        ).slug


def _counts(db) -> tuple[int, int, int]:
    """Teams, applications and audit events stored: a refused action changes none of them."""
    with db() as session:
        return tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Team, EligibilityApplication, AuditEvent)
        )


def _team_then(db, email: str, slug: str, when) -> int:
    """An entrant's team, registered through the service at `when` (inside the registration phase)."""
    from app.accounts.services import find_user

    with db() as session:
        return factories.registered_team(session, find_user(session, email), slug, "Aurora Labs", now=when).id


# --- registering a team -------------------------------------------------------------------------------------


def test_the_dashboard_shows_why_registration_is_closed_instead_of_the_form(client, make_user, closed_challenge):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    page = client.get("/dashboard").get_data(as_text=True)
    assert REGISTRATION_CLOSED in page and "Register my team" not in page
    assert "Current phase" not in page and "No phase is running now." in page


def test_the_dashboard_shows_the_open_phase_and_its_deadline(client, make_user, challenge):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Current phase: <strong>Registration, eligibility and submission</strong>" in page
    assert "Team registration closes on" in page and "(in 29 days)" in page and "Register my team" in page


def test_the_dashboard_lists_the_entrants_challenges_first_then_those_open_for_registration(
    client, make_user, db, closed_challenge
):
    base = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text()
    for slug, name, moment in (
        ("future-ai", "Future AI Challenge", utcnow() + timedelta(days=60)),
        ("open-ai", "Open AI Challenge", utcnow()),
    ):
        text = base.replace('slug = "lagc-2024"', f'slug = "{slug}"').replace(
            'name = "Large AI Grand Challenge 2024"', f'name = "{name}"'
        )
        with db() as session:
            load_config_text(session, open_config_text(text, moment))
    make_user("eve@example.eu")
    _team_then(db, "eve@example.eu", closed_challenge, IN_2024_REGISTRATION)
    sign_in(client, "eve@example.eu")
    page = client.get("/dashboard").get_data(as_text=True)
    places = [
        page.index(f">{name}</h2>")
        for name in ("Large AI Grand Challenge 2024", "Open AI Challenge", "Future AI Challenge")
    ]
    assert places == sorted(places)


def test_registering_on_the_page_after_the_close_is_refused_with_the_reason(client, make_user, db, closed_challenge):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    before = _counts(db)
    response = submit(client, f"/c/{closed_challenge}/teams", {"name": "Eve Labs"}, page="/dashboard")
    assert response.status_code == 409 and REGISTRATION_CLOSED in response.get_data(as_text=True)
    assert _counts(db) == before


def test_registering_over_the_api_after_the_close_is_a_409_problem(client, make_user, db, closed_challenge):
    headers = bearer(client, make_user, db, "eve@example.eu")
    before = _counts(db)
    response = client.post("/api/v1/teams", json={"challenge": closed_challenge, "name": "Eve Labs"}, headers=headers)
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == REGISTRATION_CLOSED
    assert _counts(db) == before


def test_registering_before_the_phase_opens_is_refused_with_the_opening_date(client, make_user, db, upcoming_challenge):
    headers = bearer(client, make_user, db, "eve@example.eu")
    before = _counts(db)
    response = client.post("/api/v1/teams", json={"challenge": upcoming_challenge, "name": "Eve Labs"}, headers=headers)
    assert response.status_code == 409 and response.get_json()["detail"].startswith("Team registration opens on ")
    sign_in(client, "eve@example.eu")
    page = submit(client, f"/c/{upcoming_challenge}/teams", {"name": "Eve Labs"}, page="/dashboard")
    assert page.status_code == 409 and "Team registration opens on " in page.get_data(as_text=True)
    assert _counts(db) == before


# --- applying for eligibility -------------------------------------------------------------------------------


def test_the_application_page_says_applications_are_closed_and_shows_no_form(client, make_user, db, closed_challenge):
    make_user("ana@aurora.eu")
    _team_then(db, "ana@aurora.eu", closed_challenge, IN_2024_REGISTRATION)
    sign_in(client, "ana@aurora.eu")
    page = client.get(f"/c/{closed_challenge}/eligibility").get_data(as_text=True)
    assert APPLICATIONS_CLOSED in page and 'class="application"' not in page and "send_json" not in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert APPLICATIONS_CLOSED in dashboard and "Checkpoint submissions closed on 30 Apr 2024 15:00 UTC." in dashboard


def test_applying_on_the_page_after_the_close_is_refused_and_nothing_is_stored(client, make_user, db, closed_challenge):
    import json

    make_user("ana@aurora.eu")
    _team_then(db, "ana@aurora.eu", closed_challenge, IN_2024_REGISTRATION)
    sign_in(client, "ana@aurora.eu")
    before = _counts(db)
    url = f"/c/{closed_challenge}/eligibility"
    html = client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "json-csrf_token": csrf_token(html),
            "csrf_token": csrf_token(html),
            "json-text": json.dumps(APPLICATION),
            "json-send_json": "y",
        },
    )
    assert response.status_code == 409 and APPLICATIONS_CLOSED in response.get_data(as_text=True)
    assert _counts(db) == before


def test_applying_over_the_api_before_the_open_and_after_the_close_is_a_409_problem(
    client, make_user, db, closed_challenge, upcoming_challenge
):
    headers = bearer(client, make_user, db, "ana@aurora.eu")
    late = _team_then(db, "ana@aurora.eu", closed_challenge, IN_2024_REGISTRATION)
    early = _team_then(db, "ana@aurora.eu", upcoming_challenge, utcnow() + timedelta(days=31))
    before = _counts(db)
    refused = client.post(f"/api/v1/teams/{late}/eligibility", json=APPLICATION, headers=headers)
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    assert refused.get_json()["detail"] == APPLICATIONS_CLOSED
    too_early = client.post(f"/api/v1/teams/{early}/eligibility", json=APPLICATION, headers=headers)
    assert too_early.status_code == 409 and too_early.get_json()["detail"].startswith(
        "Eligibility applications open on "
    )
    assert _counts(db) == before


def test_organisers_still_decide_on_applications_after_the_close(client, make_user, db, closed_challenge):
    from app.accounts.services import find_user
    from app.eligibility.services import rules_for, submit_application

    make_user("ana@aurora.eu")
    team_id = _team_then(db, "ana@aurora.eu", closed_challenge, IN_2024_REGISTRATION)
    with db() as session:
        team, found = session.get(Team, team_id), get_challenge(session, closed_challenge)
        application_id = submit_application(
            session,
            team,
            find_user(session, "ana@aurora.eu"),
            dict(APPLICATION),
            rules_for(found),
            now=IN_2024_REGISTRATION,
        ).id
    organiser = bearer(client, make_user, db, "olga@lagc.eu", Role.organiser)
    response = client.post(f"/api/v1/eligibility/applications/{application_id}/confirm-experience", headers=organiser)
    assert response.status_code == 200 and response.get_json()["status"] == "eligible"


# --- the configuration ---------------------------------------------------------------------------------------


def test_the_api_tells_what_each_phase_allows_and_what_is_open_now(client, challenge, closed_challenge):
    body = client.get(f"/api/v1/challenges/{closed_challenge}").get_json()
    assert [p["allows"] for p in body["phases"]] == [["apply", "register"], ["submit"], [], [], []]
    assert body["actions"]["submit"] == {
        "allowed": False,
        "reason": "Checkpoint submissions closed on 30 Apr 2024 15:00 UTC.",
    }


def test_the_configuration_editor_shows_an_unknown_action_as_a_problem(client, make_user, db, challenge):
    from tests.helpers import page_text, post_config

    make_user("olga@lagc.eu", Role.organiser)
    sign_in(client, "olga@lagc.eu")
    with db() as session:
        before = get_challenge(session, challenge).config_text
    edited = before.replace('allows = ["register", "apply", "submit"]', 'allows = ["register", "vote"]')
    response = post_config(client, f"/organiser/c/{challenge}/config", edited)
    assert response.status_code == 422
    assert "phases[0].allows: 'vote' is not an action; the actions are register, apply, submit" in page_text(response)
    with db() as session:
        assert get_challenge(session, challenge).config_text == before


def test_the_phase_tables_say_what_entrants_may_do_in_each_phase(client, challenge):
    for page in (client.get(f"/c/{challenge}").get_data(as_text=True), client.get("/").get_data(as_text=True)):
        may = '<td role="cell"><span class="cell-label" aria-hidden="true">Entrants may</span>'
        assert '<th scope="col" role="columnheader">Entrants may</th>' in page
        assert f"{may}register a team, apply for eligibility, submit checkpoints</td>" in page  # the running phase
        assert f"{may}submit checkpoints</td>" in page and f"{may}–</td>" in page  # submission; evaluation
