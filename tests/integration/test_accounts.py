"""Sign-up, sign-in, roles, CSRF, invitations and API tokens through the Flask test client."""

from __future__ import annotations

import re
import time

from sqlmodel import select

from app.accounts.models import ApiToken, Role, User
from tests.helpers import csrf_token, sign_in, submit


def test_sign_up_answers_each_bad_field_with_its_own_message(client):
    response = submit(
        client, "/signup", {"display_name": "", "email": "not-an-email", "password": "short", "confirm": "other"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in page and "Invalid email address." in page
    assert "The passwords differ." in page and 'aria-invalid="true"' in page


def test_sign_in_with_the_right_password_opens_a_session(client, make_user):
    make_user("eve@example.eu")
    assert sign_in(client, "eve@example.eu").status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(client, make_user):
    make_user("eve@example.eu")
    wrong = sign_in(client, "eve@example.eu", "wrong-password!")
    unknown = sign_in(client, "nobody@example.eu", "wrong-password!")
    assert wrong.status_code == unknown.status_code == 401
    assert "The e-mail or the password is wrong." in wrong.get_data(as_text=True)

    def strip(response):  # the form as the visitor sees it, without its one-off CSRF token
        form = response.get_data(as_text=True).split("<form")[1].split("</form>")[0]
        return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", form)

    assert strip(wrong).replace("eve@example.eu", "X") == strip(unknown).replace("nobody@example.eu", "X")


def test_an_unknown_account_is_checked_as_slowly_as_a_known_one(app, make_user):
    from app.accounts.services import authenticate
    from app.db import session_scope

    make_user("eve@example.eu")
    with session_scope(app.extensions["lagc_engine"]) as session:

        def timed(email):
            start = time.perf_counter()
            assert authenticate(session, email, "wrong-password!") is None
            return time.perf_counter() - start

        known = min(timed("eve@example.eu") for _ in range(3))
        unknown = min(timed("nobody@example.eu") for _ in range(3))
    assert unknown > known / 3  # both pay for an argon2 verification


def test_a_forged_form_without_the_csrf_token_is_rejected(client, make_user):
    make_user("eve@example.eu")
    response = client.post("/signin", data={"email": "eve@example.eu", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert "forged" in response.get_data(as_text=True)
    response = client.post(
        "/signin", data={"email": "eve@example.eu", "password": "correct-horse-battery", "csrf_token": "forged-token"}
    )
    assert response.status_code == 400


def test_pages_for_signed_in_people_send_anonymous_visitors_to_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/signin?next=/dashboard" in response.headers["Location"]


def test_an_entrant_is_refused_the_organisers_pages(client, make_user):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    response = client.get("/invitations")
    assert response.status_code == 403
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_judge_is_refused_team_registration(client, make_user, challenge):
    make_user("judge@example.eu", Role.judge)
    sign_in(client, "judge@example.eu")
    response = submit(client, f"/c/{challenge}/teams", {"name": "Sneaky"}, page="/dashboard")
    assert response.status_code == 403


def test_an_organiser_invites_a_judge_who_signs_up_through_the_link(client, make_user, db):
    make_user("org@example.eu", Role.organiser)
    sign_in(client, "org@example.eu")
    page = submit(client, "/invitations", {"email": "judge@example.eu", "role": "judge"}).get_data(as_text=True)
    link = page.split('id="invitation-link">')[1].split("<")[0]
    path = "/" + link.split("/", 3)[3]
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/dashboard").get_data(as_text=True))})
    assert submit(client, path, {"display_name": "Judy", "password": "judge-password"}).status_code == 302
    with db() as session:
        judge = session.exec(select(User).where(User.email == "judge@example.eu")).one()
        assert Role(judge.role) is Role.judge
    assert client.get(path).status_code == 404  # an invitation works once


def test_an_entrant_registers_one_team_per_challenge(client, make_user, challenge):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    first = submit(client, f"/c/{challenge}/teams", {"name": "Eve Labs"}, page="/dashboard")
    assert first.status_code == 302
    assert "Eve Labs" in client.get("/dashboard").get_data(as_text=True)
    second = submit(client, f"/c/{challenge}/teams", {"name": "Eve Labs Two"}, page="/dashboard")
    assert second.status_code == 422
    assert "already belong to a team" in second.get_data(as_text=True)


def test_an_api_token_is_shown_once_stored_hashed_and_revocable(client, make_user, db):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    page = submit(client, "/account/tokens", {"name": "ci script"}).get_data(as_text=True)
    plain = page.split('id="new-token">')[1].split("<")[0]
    assert plain.startswith("lagc_")
    assert plain not in client.get("/account/tokens").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "eve@example.eu"
    with db() as session:
        token = session.exec(select(ApiToken)).one()
        assert plain not in token.token_hash and len(token.token_hash) == 64
        token_id = token.id
    html = client.get("/account/tokens").get_data(as_text=True)
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(html)})
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_the_users_command_creates_an_account(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create", "ops@example.eu", "--role", "organiser"])
    assert result.exit_code == 0, result.output
    assert "with password" in result.output
    with db() as session:
        assert Role(session.exec(select(User)).one().role) is Role.organiser
    again = app.test_cli_runner().invoke(args=["users", "create", "ops@example.eu", "--role", "judge"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_hammering_sign_in_for_one_account_gets_429_with_retry_after(client, make_user, limiter_clock):
    make_user("eve@example.eu")
    statuses = [sign_in(client, "eve@example.eu", "wrong-password!").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    last = sign_in(client, "eve@example.eu")  # even the right password waits for the window
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0


def test_hammering_sign_up_from_one_address_gets_429(client, limiter_clock):
    data = {"display_name": "B", "email": "not-an-email", "password": "x", "confirm": "x"}
    statuses = [submit(client, "/signup", data).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    assert client.get("/signup").status_code == 200  # reading the page is not limited
