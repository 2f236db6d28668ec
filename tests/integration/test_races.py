"""State changes that people can fire twice, fired twenty times at once at gunicorn's worker processes, on
SQLite and PostgreSQL: registering a team, sending an eligibility application, deciding on it, locking and
publishing judging, confirming the award. Each is one compare-and-set or runs under one row lock
(`app.db.compare_and_set`, `app.db.lock_row`), so one request changes the state, the others are told 409
(or, where every request is a new fact, each gets its own), and none gets a 500."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from app.accounts.models import Role, User
from app.accounts.services import find_user
from app.audit.models import AuditEvent
from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.eligibility.models import EligibilityApplication
from app.eligibility.services import rules_for, submit_application
from app.judging.models import JudgingLock
from app.teams.models import Team
from tests import factories
from tests.helpers import bearer

PARALLEL = 20


def _statuses(responses) -> Counter:
    return Counter(r.status_code for r in responses)


def _events(db, action: str) -> int:
    with db() as session:
        return len(session.exec(select(AuditEvent.id).where(AuditEvent.action == action)).all())


def _user_id(db, email: str) -> int:
    with db() as session:
        return session.exec(select(User.id).where(User.email == email)).one()


@pytest.fixture
def organiser(client, make_user, db) -> dict:
    return bearer(client, make_user, db, "olga@lagc.eu", Role.organiser)


def test_one_entrant_registering_twenty_times_at_once_gets_one_team(live, client, make_user, db, challenge):
    headers = bearer(client, make_user, db, "ana@aurora.eu")
    responses = live.fire(
        PARALLEL,
        lambda http: http.post(
            f"{live.url}/api/v1/teams", headers=headers, json={"challenge": challenge, "name": "Aurora Labs"}
        ),
    )
    assert _statuses(responses) == {201: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert live.tracebacks() == ""
    assert _events(db, "team.registered") == 1


def test_twenty_entrants_taking_one_team_name_at_once_leave_one_team(live, client, make_user, db, challenge):
    tokens = iter([bearer(client, make_user, db, f"e{index}@start.eu") for index in range(PARALLEL)])
    responses = live.fire(
        PARALLEL,
        lambda http: http.post(
            f"{live.url}/api/v1/teams", headers=next(tokens), json={"challenge": challenge, "name": "Aurora Labs"}
        ),
    )
    statuses = _statuses(responses)
    assert statuses[201] == 1 and set(statuses) <= {201, 409, 422}, statuses
    assert live.tracebacks() == ""


@pytest.fixture
def team(db, make_user, challenge, client) -> tuple[int, dict]:
    """An entrant's registered team (no application yet) and the entrant's token."""
    headers = bearer(client, make_user, db, "ana@aurora.eu")
    with db() as session:
        return factories.registered_team(session, find_user(session, "ana@aurora.eu"), challenge, "Aurora").id, headers


def test_an_application_sent_twenty_times_at_once_becomes_twenty_versions_in_order(live, db, team):
    team_id, headers = team
    url = f"{live.url}/api/v1/teams/{team_id}/eligibility"
    responses = live.fire(PARALLEL, lambda http: http.post(url, headers=headers, json=factories.APPLICATION))
    assert _statuses(responses) == {201: PARALLEL}, [r.text for r in responses if r.status_code != 201]
    assert live.tracebacks() == ""
    with db() as session:
        versions = session.exec(
            select(EligibilityApplication.version).where(EligibilityApplication.team_id == team_id)
        ).all()
    assert sorted(versions) == list(range(1, PARALLEL + 1))


@pytest.fixture
def application(db, team) -> int:
    """The team's application, waiting for an organiser to confirm its experience evidence."""
    team_id, _ = team
    with db() as session:
        row, owner = session.get(Team, team_id), find_user(session, "ana@aurora.eu")
        return submit_application(
            session, row, owner, dict(factories.APPLICATION), rules_for(session.get(Challenge, row.challenge_id))
        ).id


def test_an_experience_confirmed_twenty_times_at_once_is_confirmed_once(live, db, organiser, application):
    url = f"{live.url}/api/v1/eligibility/applications/{application}/confirm-experience"
    responses = live.fire(PARALLEL, lambda http: http.post(url, headers=organiser))
    assert _statuses(responses) == {200: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert live.tracebacks() == ""
    assert _events(db, "eligibility.experience_confirmed") == 1


def test_an_override_sent_twenty_times_at_once_is_recorded_once(live, db, organiser, application):
    url = f"{live.url}/api/v1/eligibility/applications/{application}/override"
    body = {"status": "eligible", "justification": "Experience checked on a call with the founders."}
    responses = live.fire(PARALLEL, lambda http: http.post(url, headers=organiser, json=body))
    assert _statuses(responses) == {200: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert live.tracebacks() == ""
    assert _events(db, "eligibility.overridden") == 1


@pytest.mark.parametrize("act", ["lock", "publish"])
def test_judging_locked_or_published_twenty_times_at_once_changes_once(live, db, organiser, challenge, act):
    if act == "publish":
        with db() as session:
            organiser_id = find_user(session, "olga@lagc.eu").id
            factories.judging_lock(session, get_challenge(session, challenge).id, organiser_id)
    url = f"{live.url}/api/v1/judging/{challenge}/{act}"
    responses = live.fire(PARALLEL, lambda http: http.post(url, headers=organiser))
    assert _statuses(responses) == {200: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert live.tracebacks() == ""
    assert _events(db, {"lock": "judging.locked", "publish": "judging.published"}[act]) == 1
    with db() as session:
        assert len(session.exec(select(JudgingLock)).all()) == 1


def test_an_award_confirmed_twenty_times_at_once_is_recorded_once(live, client, make_user, db, organiser):
    people = {
        "organiser": _user_id(db, "olga@lagc.eu"),
        "judge": make_user("jonas@lagc.eu", Role.judge),
        "entrant": make_user("aino@lagc.eu"),
    }
    world = factories.prize_world(db, people)
    for name, arc in (("Aurora", 0.85), ("Baltic", 0.70), ("Iberia", 0.55)):
        world.entry(name, arc)
    world.settle()
    slug = factories.PRIZE_SLUG
    preview = client.post(f"/api/v1/prizes/{slug}/preview", headers=organiser)
    assert preview.status_code == 200, preview.get_json()
    body = {"fingerprint": preview.get_json()["fingerprint"]}
    responses = live.fire(
        PARALLEL, lambda http: http.post(f"{live.url}/api/v1/prizes/{slug}/confirm", headers=organiser, json=body)
    )
    assert _statuses(responses) == {201: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert live.tracebacks() == ""
    assert _events(db, "prize.awarded") == 1
