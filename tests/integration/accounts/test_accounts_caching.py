"""Caching: whatever a signed-in person (or a browser holding a session cookie, or an API token) is shown is
never stored by a browser or a proxy (`Cache-Control: no-store`); anonymous public pages keep their own
caching headers."""

from __future__ import annotations

from app.accounts.models import Role
from tests.helpers import bearer, sign_in, submit


def test_the_tokens_page_that_shows_a_new_token_once_is_never_stored(client, make_user):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    assert client.get("/account/tokens").headers["Cache-Control"] == "no-store"
    created = submit(client, "/account/tokens", {"name": "ci script"})
    assert 'id="new-token">lagc_' in created.get_data(as_text=True)
    assert created.headers["Cache-Control"] == "no-store"


def test_every_page_a_signed_in_person_gets_is_never_stored(client, make_user, challenge):
    make_user("org@example.eu", Role.organiser)
    sign_in(client, "org@example.eu")
    for path in (
        "/dashboard",
        "/account/2fa",
        "/notifications",
        "/",
        f"/c/{challenge}",
        "/leaderboard",
        "/no/such/page",
        f"/c/{challenge}/judging/organise",
    ):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_a_browser_with_a_session_cookie_gets_pages_that_are_never_stored(client, challenge):
    client.get("/signin")  # the sign-in form puts its CSRF token in a session cookie
    assert client.get_cookie("session") is not None
    assert client.get("/leaderboard").headers["Cache-Control"] == "no-store"


def test_anonymous_public_pages_keep_their_caching_headers(client, challenge, db):
    from leaderboard.services import refresh_all

    with db() as session:  # the scheduler's step prepares the board (a request never computes one)
        refresh_all(session)
    board = client.get("/leaderboard")
    assert board.status_code == 200 and board.headers["Cache-Control"].startswith("public")
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_api_answers_to_a_token_are_never_stored(client, make_user, db):
    headers = bearer(client, make_user, db, "eve@example.eu")
    assert client.get("/api/v1/me", headers=headers).headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_for_signed_in_people(client, make_user):
    make_user("eve@example.eu")
    sign_in(client, "eve@example.eu")
    response = client.get("/static/style.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_the_page_that_hands_a_browser_its_first_session_cookie_is_never_stored(client):
    response = client.get("/signin")
    assert any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    assert response.headers["Cache-Control"] == "no-store"
