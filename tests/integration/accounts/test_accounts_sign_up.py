"""Sign-up without enumeration: `/signup` answers a new and a taken address alike (same page, same status, the
password hashed either way); the scheduler then e-mails the address a link that creates the account, or tells
the owner of a taken address that someone tried. Nobody is signed in before the address is confirmed."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.accounts.models import Role, SignUpRequest, User
from app.audit.models import AuditEvent
from app.notifications.jobs import mail_sign_up_requests
from app.notifications.models import Notification
from tests.helpers import csrf_token, page_text, sign_in, submit

FORM = {"display_name": "Ada", "password": "a-long-password", "confirm": "a-long-password"}


def sign_up(client, email: str, **changes):
    return submit(client, "/signup", {**FORM, "email": email, **changes})


def mail(db, settings) -> list[Notification]:
    """Run the scheduler's sign-up step; the notifications it wrote, oldest first."""
    with db() as session:
        mail_sign_up_requests(session, settings)
    with db() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())


def link_path(notification: Notification) -> str:
    url = re.search(r"https?://\S+/signup/confirm/\S+", notification.body).group(0)
    return "/" + url.split("/", 3)[3]


def test_a_new_and_a_taken_address_get_the_same_page_and_status(client, make_user):
    make_user("taken@example.eu")
    new, taken = sign_up(client, "new@example.eu"), sign_up(client, "taken@example.eu")
    assert new.status_code == taken.status_code == 200
    strip = lambda r, email: re.sub(r'value="[^"]+"', "", page_text(r).replace(email, "ADDRESS"))  # noqa: E731
    assert strip(new, "new@example.eu") == strip(taken, "taken@example.eu")
    assert "Check your inbox" in page_text(new) and "already exists" not in page_text(taken)
    assert client.get("/dashboard").status_code == 302  # nobody is signed in before confirming


def test_both_answers_hash_the_password_so_they_take_comparable_time(client, make_user, monkeypatch):
    from app.accounts import signup

    make_user("taken@example.eu")
    hashed, real = [], signup.HASHER

    class Counting:
        def hash(self, password: str) -> str:
            hashed.append(password)
            return real.hash(password)

    monkeypatch.setattr(signup, "HASHER", Counting())
    sign_up(client, "new@example.eu")
    sign_up(client, "taken@example.eu")
    assert hashed == ["a-long-password", "a-long-password"]


def test_a_new_address_gets_a_link_that_creates_the_account_once(client, db, settings):
    sign_up(client, "Ada@Example.eu")
    [message] = mail(db, settings)
    assert message.address == "ada@example.eu" and message.recipient_id is None and not message.on_dashboard
    path = link_path(message)
    assert settings.public_url in message.body and "24 hours" in message.body
    page = client.get(path)
    assert page.status_code == 200 and "ada@example.eu" in page_text(page)
    done = client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    assert "Your dashboard" in client.get("/dashboard").get_data(as_text=True)
    with db() as session:
        user = session.exec(select(User)).one()
        assert user.email == "ada@example.eu" and user.display_name == "Ada" and Role(user.role) is Role.entrant
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "account.created")).first()
    assert client.get(path).status_code == 404  # the link works once
    assert mail(db, settings) == [message]  # mailed once


def test_the_owner_of_a_taken_address_is_told_and_keeps_the_account_unchanged(client, db, settings, make_user):
    owner = make_user("taken@example.eu")
    sign_up(client, "taken@example.eu", password="attackers-password", confirm="attackers-password")
    [message] = mail(db, settings)
    assert message.recipient_id == owner and message.kind == "account"
    assert "/signup/confirm/" not in message.body and "already has an account" in message.body
    with db() as session:
        assert len(session.exec(select(User)).all()) == 1
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "account.sign_up_refused")).first()
    assert sign_in(client, "taken@example.eu", "attackers-password").status_code == 401
    assert sign_in(client, "taken@example.eu").status_code == 302


def test_repeated_attempts_on_a_taken_address_tell_the_owner_once_a_day(client, db, settings, make_user):
    make_user("taken@example.eu")
    for _ in range(3):
        sign_up(client, "taken@example.eu")
    assert len(mail(db, settings)) == 1


def test_an_address_someone_else_confirmed_first_is_not_taken_twice(app, db, settings):
    first, second = app.test_client(), app.test_client()
    sign_up(first, "ada@example.eu")
    sign_up(second, "ada@example.eu", password="another-password", confirm="another-password")
    links = [link_path(m) for m in mail(db, settings)]
    assert len(links) == 2
    page = first.get(links[0])
    assert first.post(links[0], data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 302
    late = second.get(links[1])
    assert late.status_code == 404 and "already has an account" in page_text(late)
    with db() as session:
        assert len(session.exec(select(User)).all()) == 1


@pytest.mark.parametrize("damage", ["forged", "expired"])
def test_a_forged_or_expired_link_creates_nothing(client, db, settings, damage):
    from datetime import timedelta

    sign_up(client, "ada@example.eu")
    path = link_path(mail(db, settings)[0])
    if damage == "forged":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    else:
        with db() as session:
            row = session.exec(select(SignUpRequest)).one()
            row.expires_at = row.created_at - timedelta(seconds=1)
    response = client.get(path)
    assert response.status_code == 404 and "Sign up again" in page_text(response)
    with db() as session:
        assert session.exec(select(User)).all() == []


def test_a_genuinely_signed_link_whose_contents_cannot_be_read_is_refused_not_a_500(client, app, db):
    from itsdangerous import TimestampSigner

    # Signed with the key and salt, but not JSON (a link from an older format, say): unreadable, so unknown.
    token = TimestampSigner(app.config["SECRET_KEY"], salt="lagc-sign-up").sign(b"not json").decode()
    response = client.get("/signup/confirm/" + token)
    assert response.status_code == 404 and "Sign up again" in page_text(response)


def test_sign_up_still_answers_each_bad_field_and_stores_nothing(client, db):
    response = sign_up(client, "not-an-email", password="short", confirm="other")
    assert response.status_code == 422 and "Invalid email address." in page_text(response)
    with db() as session:
        assert session.exec(select(SignUpRequest)).all() == []


def test_sign_up_requests_are_deleted_a_day_after_they_expire(client, db, settings):
    from datetime import timedelta

    from app.privacy.jobs import apply_retention

    sign_up(client, "ada@example.eu")
    with db() as session:
        row = session.exec(select(SignUpRequest)).one()
        later = row.expires_at + timedelta(days=1, seconds=1)
    with db() as session:
        assert apply_retention(session, settings, now=later - timedelta(seconds=2))["sign_up_requests"] == 0
    with db() as session:
        assert apply_retention(session, settings, now=later)["sign_up_requests"] == 1


def test_erasing_the_account_deletes_the_e_mail_and_the_request_that_created_it(client, db, settings):
    from app.privacy.services import erase

    sign_up(client, "ada@example.eu")
    path = link_path(mail(db, settings)[0])
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    with db() as session:
        erase(session, session.exec(select(User)).one(), "a-long-password")
    with db() as session:
        assert session.exec(select(Notification).where(Notification.address == "ada@example.eu")).all() == []
        assert session.exec(select(SignUpRequest)).all() == []
