"""`flask users token EMAIL [--name NAME]`: a token for scripts and operations, printed once as JSON, stored
hashed and audited exactly like one made on the API tokens page."""

from __future__ import annotations

import json

from sqlmodel import select

from app.accounts.models import ApiToken, Role
from app.audit.models import AuditEvent


def test_the_command_prints_a_working_token_once_as_json(app, client, make_user, db):
    user_id = make_user("ops@example.eu", Role.organiser)
    result = app.test_cli_runner().invoke(args=["users", "token", "ops@example.eu", "--name", "nightly backup"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"token"} and printed["token"].startswith("lagc_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {printed['token']}"})
    assert me.status_code == 200 and me.get_json()["email"] == "ops@example.eu"
    with db() as session:
        token = session.exec(select(ApiToken)).one()
        assert token.user_id == user_id and token.name == "nightly backup"
        assert printed["token"] not in (token.token_hash, token.prefix)  # only a hash and a short prefix kept
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "token.issued")).one()
        assert (event.subject_id, event.actor_id, event.details) == (str(token.id), user_id, {"name": "nightly backup"})


def test_the_name_defaults_to_say_where_the_token_came_from(app, make_user, db):
    make_user("ada@aurora.fi")
    assert app.test_cli_runner().invoke(args=["users", "token", "ADA@aurora.fi"]).exit_code == 0
    with db() as session:
        assert session.exec(select(ApiToken.name)).one() == "command line"


def test_an_unknown_email_is_a_clear_error_with_a_non_zero_exit(app, db):
    result = app.test_cli_runner().invoke(args=["users", "token", "nobody@example.eu"])
    assert result.exit_code != 0 and "There is no account for nobody@example.eu" in result.output
    with db() as session:
        assert session.exec(select(ApiToken)).all() == []


def test_a_disabled_account_gets_no_token(app, make_user, db):
    from app.accounts.models import User

    user_id = make_user("gone@example.eu")
    with db() as session:
        session.get(User, user_id).is_active = False
    result = app.test_cli_runner().invoke(args=["users", "token", "gone@example.eu"])
    assert result.exit_code != 0 and "disabled" in result.output
