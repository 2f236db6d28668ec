"""The sign-up e-mails go out like every notification: written by the scheduler, sent through SMTP (a real
server here); without a server in development, the scheduler's log shows them so the link can be followed."""

from __future__ import annotations

import logging
import re

from app.notifications.jobs import mail_sign_up_requests
from app.notifications.sender import send_due
from tests.helpers import submit

FORM = {"display_name": "Ada", "password": "a-long-password", "confirm": "a-long-password"}


def run_scheduler(db, settings) -> int:
    with db() as session:
        mail_sign_up_requests(session, settings)
    with db() as session:
        return send_due(session, settings)


def test_a_new_address_and_a_taken_one_each_get_their_e_mail(client, db, settings, make_user, smtp_server):
    host, port, inbox = smtp_server
    make_user("taken@example.eu")
    submit(client, "/signup", {**FORM, "email": "new@example.eu"})
    submit(client, "/signup", {**FORM, "email": "taken@example.eu"})
    assert run_scheduler(db, settings.with_overrides(smtp_host=host, smtp_port=port)) == 2
    inbox.wait_for(2)
    [link_mail], [notice] = inbox.to("new@example.eu"), inbox.to("taken@example.eu")
    assert link_mail["Subject"] == "Confirm your e-mail address to create your account"
    assert re.search(r"/signup/confirm/\S+", link_mail.get_content())
    assert notice["Subject"] == "Someone tried to create an account with your e-mail address"
    assert "/signup/confirm/" not in notice.get_content()


def test_without_a_mail_server_in_development_the_log_shows_the_e_mail_once(client, db, settings, caplog):
    settings = settings.with_overrides(env="development", password_hash_cost="standard")
    submit(client, "/signup", {**FORM, "email": "new@example.eu"})
    with caplog.at_level(logging.INFO, logger="app.notifications.sender"):
        assert run_scheduler(db, settings) == 0
        run_scheduler(db, settings)
    logged = [r.getMessage() for r in caplog.records if "new@example.eu" in r.getMessage()]
    assert len(logged) == 1 and "/signup/confirm/" in logged[0]


def test_in_production_the_log_never_shows_an_e_mail(client, db, settings, caplog):
    settings = settings.with_overrides(env="production", password_hash_cost="standard")
    submit(client, "/signup", {**FORM, "email": "new@example.eu"})
    with caplog.at_level(logging.INFO, logger="app.notifications.sender"):
        run_scheduler(db, settings)
    assert not [r for r in caplog.records if "/signup/confirm/" in r.getMessage()]
