"""Sign-in limits: wrong passwords are counted per account *and* client (network address, or the browser the
owner signed in from before), so someone who knows an address cannot lock its owner out; spraying one account
from many addresses, or many accounts from one address, is still limited.

The limits are scaled down (`rate_limit_scale`) so each test needs a few sign-ins rather than a hundred."""

from __future__ import annotations

import pytest

from app.accounts.signin import PER_ACCOUNT, PER_ACCOUNT_AND_CLIENT
from app.security.ratelimit import SIGN_IN_PER_ADDRESS
from tests.helpers import csrf_token, page_text

SCALE = 0.2
ATTACKER, OWNER_HOME = "203.0.113.66", "198.51.100.7"


def scaled(rule) -> int:
    return max(1, int(rule.limit * SCALE))


@pytest.fixture
def settings(settings):
    return settings.with_overrides(rate_limit_scale=SCALE)


def attempt(client, address: str, email: str, password: str):
    """One sign-in from a network address, as a browser sends it (the form's CSRF token first)."""
    html = client.get("/signin", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_token(html)},
        environ_base={"REMOTE_ADDR": address},
    )


def sign_out(client) -> None:
    html = client.get("/dashboard").get_data(as_text=True)
    client.post("/signout", data={"csrf_token": csrf_token(html)})


def test_wrong_passwords_from_one_address_never_lock_the_owner_out_of_another(app, make_user, limiter_clock):
    make_user("eve@example.eu")
    attacker = app.test_client()
    statuses = [
        attempt(attacker, ATTACKER, "eve@example.eu", "wrong-password!").status_code
        for _ in range(scaled(PER_ACCOUNT_AND_CLIENT) + 1)
    ]
    assert statuses == [401] * scaled(PER_ACCOUNT_AND_CLIENT) + [429]
    assert attempt(attacker, ATTACKER, "eve@example.eu", "correct-horse-battery").status_code == 429
    owner = app.test_client()
    assert attempt(owner, OWNER_HOME, "eve@example.eu", "correct-horse-battery").status_code == 302


def test_the_owners_usual_browser_signs_in_even_from_the_attackers_network(app, make_user, limiter_clock):
    make_user("eve@example.eu")
    owner = app.test_client()
    assert attempt(owner, ATTACKER, "eve@example.eu", "correct-horse-battery").status_code == 302
    sign_out(owner)
    attacker = app.test_client()
    for _ in range(scaled(PER_ACCOUNT_AND_CLIENT) + 1):
        attempt(attacker, ATTACKER, "eve@example.eu", "wrong-password!")
    assert attempt(attacker, ATTACKER, "eve@example.eu", "correct-horse-battery").status_code == 429
    assert attempt(owner, ATTACKER, "eve@example.eu", "correct-horse-battery").status_code == 302


def test_a_device_cookie_whose_contents_cannot_be_read_counts_as_an_unknown_browser(app, make_user, limiter_clock):
    from itsdangerous import TimestampSigner

    from app.accounts.signin import DEVICE_COOKIE

    make_user("eve@example.eu")
    browser = app.test_client()
    # Signed with the key and salt, but not JSON: the browser is not recognised, and sign-in still works.
    unreadable = TimestampSigner(app.config["SECRET_KEY"], salt="lagc-sign-in-device").sign(b"not json").decode()
    browser.set_cookie(DEVICE_COOKIE, unreadable)
    assert attempt(browser, OWNER_HOME, "eve@example.eu", "correct-horse-battery").status_code == 302


def test_spraying_one_account_from_many_addresses_is_limited_but_not_for_the_owners_browser(
    app, make_user, limiter_clock
):
    make_user("eve@example.eu")
    owner = app.test_client()
    assert attempt(owner, OWNER_HOME, "eve@example.eu", "correct-horse-battery").status_code == 302
    sign_out(owner)
    spray = [
        attempt(app.test_client(), f"192.0.2.{n}", "eve@example.eu", "wrong-password!").status_code
        for n in range(1, scaled(PER_ACCOUNT) + 2)
    ]
    assert spray == [401] * scaled(PER_ACCOUNT) + [429]
    assert attempt(app.test_client(), "192.0.2.200", "eve@example.eu", "correct-horse-battery").status_code == 429
    assert attempt(owner, OWNER_HOME, "eve@example.eu", "correct-horse-battery").status_code == 302


def test_many_accounts_from_one_address_are_limited(app, make_user, limiter_clock):
    attacker = app.test_client()
    statuses = [
        attempt(attacker, ATTACKER, f"person{n}@example.eu", "wrong-password!").status_code
        for n in range(scaled(SIGN_IN_PER_ADDRESS) + 1)
    ]
    assert statuses == [401] * scaled(SIGN_IN_PER_ADDRESS) + [429]


def test_an_unknown_address_is_counted_like_an_account_so_the_limit_reveals_nothing(app, make_user, limiter_clock):
    make_user("eve@example.eu")
    attacker = app.test_client()
    for email in ("eve@example.eu", "nobody@example.eu"):
        statuses = [
            attempt(attacker, ATTACKER, email, "wrong-password!").status_code
            for _ in range(scaled(PER_ACCOUNT_AND_CLIENT) + 1)
        ]
        assert statuses == [401] * scaled(PER_ACCOUNT_AND_CLIENT) + [429], email


def test_the_refusal_is_the_sign_in_page_saying_when_to_try_again_and_why(app, make_user, limiter_clock):
    make_user("eve@example.eu")
    attacker = app.test_client()
    for _ in range(scaled(PER_ACCOUNT_AND_CLIENT)):
        attempt(attacker, ATTACKER, "eve@example.eu", "wrong-password!")
    refused = attempt(attacker, ATTACKER, "eve@example.eu", "wrong-password!")
    text = page_text(refused)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong passwords for this account from your network" in text
    assert "minutes" in text and 'name="password"' in refused.get_data(as_text=True)


def test_the_sign_in_page_states_the_rule(client):
    text = page_text(client.get("/signin"))
    assert f"{scaled(PER_ACCOUNT_AND_CLIENT)} wrong passwords" in text and "15 minutes" in text
    assert "browser you signed in with before" in text
