"""Names others read are refused at input when they hide characters (U+202E makes "evil" read "live"), on the
pages and the API alike, with a message naming the character; nothing is stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.accounts.models import Role, User
from app.teams.models import Team
from tests.helpers import bearer, sign_in, submit

RLO = "\u202e"
NAMED = "U+202E RIGHT-TO-LEFT OVERRIDE"


@pytest.fixture
def token(client, db, make_user):
    """`token(email, role)`: the Authorization header of a new account's API token."""
    return lambda email, role=Role.entrant: bearer(client, make_user, db, email, role)


def test_the_api_refuses_a_team_name_with_a_right_to_left_override(client, token, challenge, db):
    response = client.post(
        "/api/v1/teams", json={"challenge": challenge, "name": f"Team {RLO}live"}, headers=token("ada@aurora.fi")
    )
    assert response.status_code == 422
    assert NAMED in response.get_json()["errors"]["name"][0]
    with db() as session:
        assert session.exec(select(Team)).all() == []


def test_the_dashboard_refuses_a_team_name_with_a_zero_width_space(client, make_user, challenge, db):
    make_user("ada@aurora.fi")
    sign_in(client, "ada@aurora.fi")
    response = submit(client, f"/c/{challenge}/teams", {"name": "Aurora\u200bLabs"}, page="/dashboard")
    assert response.status_code == 422 and "U+200B ZERO WIDTH SPACE" in response.get_data(as_text=True)
    with db() as session:
        assert session.exec(select(Team)).all() == []


def test_sign_up_refuses_a_display_name_with_a_bidi_isolate(client, db):
    response = submit(
        client,
        "/signup",
        {
            "email": "eve@example.eu",
            "password": "correct-horse-battery",
            "confirm": "correct-horse-battery",
            "display_name": "Eve \u2067Admin\u2069",
        },
    )
    assert response.status_code == 422 and "U+2067 RIGHT-TO-LEFT ISOLATE" in response.get_data(as_text=True)
    with db() as session:
        assert session.exec(select(User)).all() == []


def test_the_api_refuses_a_submission_label_with_a_bidi_control(client, token, challenge):
    response = client.post(
        f"/api/v1/challenges/{challenge}/submissions",
        json={"label": f"model{RLO}fdp.exe"},
        headers=token("ada@aurora.fi"),
    )
    assert (
        response.status_code == 422
    )  # the label is checked before the team and NAMED in response.get_json()["errors"]["label"][0]


def test_the_eligibility_check_refuses_enterprise_names_with_hidden_characters(client):
    response = client.post(
        "/api/v1/eligibility/check",
        json={"legal_name": f"Aurora {RLO}Oy", "partner_enterprises": [{"name": "Fund\u200b"}]},
    )
    errors = response.get_json()["errors"]
    assert response.status_code == 422
    assert NAMED in errors["legal_name"][0] and "ZERO WIDTH SPACE" in errors["partner_enterprises[0].name"][0]


def test_baseline_models_and_token_names_follow_the_same_rule(db, make_user, challenge):
    from app.accounts.services import AccountError, issue_token
    from app.challenges.services import get_challenge
    from app.organiser.services import register_baseline

    organiser = make_user("olga@lagc.eu", Role.organiser)
    with db() as session:
        with pytest.raises(ValueError, match="U\\+202E"):
            register_baseline(session, get_challenge(session, challenge), f"Llama{RLO}", organiser)
        with pytest.raises(AccountError, match="U\\+202E"):
            issue_token(session, session.get(User, organiser), f"ci{RLO}")
