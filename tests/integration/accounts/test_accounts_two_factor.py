"""The second factor: enrolment, the two-step sign-in, replays, recovery codes, and organisers and judges held
on the enrolment page (pages) or refused (API) until they have one."""

from __future__ import annotations

import re

import pyotp
from sqlmodel import select

from app.accounts.models import RecoveryCode, Role, TotpCredential
from app.accounts.totp import demo_secret
from tests.helpers import bearer, csrf_token, sign_in, submit, totp_code


def _password_step(client, email: str):
    return submit(client, "/signin", {"email": email, "password": "correct-horse-battery"})


def _sign_out(client) -> None:
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/account/2fa").get_data(as_text=True))})


def _enrol_through_the_page(client) -> tuple[str, list[str]]:
    """Read the secret off the enrolment page, confirm it; returns the secret and the recovery codes."""
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    codes_page = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)})
    assert codes_page.status_code == 200, codes_page.get_data(as_text=True)
    return secret, re.findall(r'<code class="secret">([a-z0-9-]+)</code>', codes_page.get_data(as_text=True))


def test_an_organiser_without_a_second_factor_is_sent_to_enrolment_and_can_use_nothing_else(client, make_user):
    make_user("org@example.eu", Role.organiser, second_factor=False)
    response = _password_step(client, "org@example.eu")
    assert response.headers["Location"].endswith("/account/2fa")
    for path in ("/dashboard", "/invitations", "/account/tokens", "/organiser/"):
        assert client.get(path).headers.get("Location", "").endswith("/account/2fa"), path
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "otpauth://totp/" in page and "Set up two-factor authentication" in page


def test_enrolment_confirms_with_a_code_stores_the_secret_encrypted_and_recovery_codes_hashed(client, make_user, db):
    make_user("org@example.eu", Role.organiser, second_factor=False)
    _password_step(client, "org@example.eu")
    wrong = submit(client, "/account/2fa", {"code": "000000"})
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    secret, codes = _enrol_through_the_page(client)
    assert len(codes) == 10
    assert client.get("/dashboard").status_code == 200
    assert secret not in client.get("/account/2fa").get_data(as_text=True)  # shown once
    with db() as session:
        stored = session.exec(select(TotpCredential)).one()
        assert stored.confirmed_at is not None and secret not in stored.secret_encrypted
        hashes = {r.code_hash for r in session.exec(select(RecoveryCode)).all()}
        assert len(hashes) == 10 and not any(code in hashes for code in codes)


def test_sign_in_with_an_authenticator_takes_two_steps(client, make_user):
    make_user("judge@example.eu", Role.judge)
    first = _password_step(client, "judge@example.eu")
    assert first.headers["Location"].endswith("/signin/code")
    assert client.get("/dashboard").status_code == 302  # not signed in yet
    code = pyotp.TOTP(demo_secret("judge@example.eu")).now()
    second = submit(client, "/signin/code", {"code": code})
    assert second.status_code == 302 and second.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200


def test_a_wrong_code_does_not_sign_in(client, make_user):
    make_user("judge@example.eu", Role.judge)
    _password_step(client, "judge@example.eu")
    response = submit(
        client,
        "/signin/code",
        {"code": "123456" if totp_code(client.application, "judge@example.eu") != "123456" else "654321"},
    )
    assert response.status_code == 401 and "wrong, expired or already used" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_a_code_is_accepted_only_once(client, make_user):
    make_user("judge@example.eu", Role.judge)
    code = pyotp.TOTP(demo_secret("judge@example.eu")).now()
    _password_step(client, "judge@example.eu")
    assert submit(client, "/signin/code", {"code": code}).status_code == 302
    _sign_out(client)
    _password_step(client, "judge@example.eu")
    replay = submit(client, "/signin/code", {"code": code})
    assert replay.status_code == 401
    assert client.get("/dashboard").status_code == 302


def test_a_recovery_code_signs_in_once(client, make_user):
    make_user("eve@example.eu")  # entrants may turn the second factor on too
    sign_in(client, "eve@example.eu")
    _, codes = _enrol_through_the_page(client)
    _sign_out(client)
    _password_step(client, "eve@example.eu")
    used = submit(client, "/signin/code", {"code": codes[0].upper()})
    assert used.status_code == 302
    assert "9 are left" in client.get("/dashboard").get_data(as_text=True)
    _sign_out(client)
    _password_step(client, "eve@example.eu")
    assert submit(client, "/signin/code", {"code": codes[0]}).status_code == 401


def test_the_code_step_needs_the_password_step_first(client, make_user):
    response = client.get("/signin/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/signin")


def test_guessing_codes_for_one_account_gets_429(client, make_user, limiter_clock):
    make_user("judge@example.eu", Role.judge)
    _password_step(client, "judge@example.eu")
    statuses = [submit(client, "/signin/code", {"code": "abcdef"}).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_a_judges_api_token_is_refused_until_the_judge_enrols(client, make_user, db):
    headers = bearer(
        client, lambda email, role: make_user(email, role, second_factor=False), db, "judge@example.eu", Role.judge
    )
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "enable two-factor authentication" in refused.get_json()["detail"]
    _password_step(client, "judge@example.eu")
    _enrol_through_the_page(client)
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "judge@example.eu"


def test_the_demo_organiser_signs_in_with_the_printed_demo_secret(app, client, db):
    from app.demo import DEMO_PASSWORD, load_demo

    with db() as session:
        load_demo(session, app.config["LAGC"])
    submit(client, "/signin", {"email": "organiser@demo.lagc.eu", "password": DEMO_PASSWORD})
    code = pyotp.TOTP(demo_secret("organiser@demo.lagc.eu")).now()
    assert submit(client, "/signin/code", {"code": code}).status_code == 302
    assert client.get("/dashboard").status_code == 200
    printed = app.test_cli_runner().invoke(args=["demo", "load"]).output
    assert "TOTP secret of judge@demo.lagc.eu" in printed and demo_secret("judge@demo.lagc.eu") in printed
