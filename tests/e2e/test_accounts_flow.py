"""The account flows in a real browser against the running platform."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.signin import e_mailed_link, sign_in

pytestmark = pytest.mark.e2e


def test_a_newcomer_sees_the_demo_challenge_and_its_deadlines(page, server):
    page.goto(server + "/")
    expect(page.get_by_role("heading", name="Demo Grand Challenge")).to_be_visible()
    expect(page.get_by_role("heading", name="Large AI Grand Challenge 2024")).to_be_visible()
    expect(page.locator("tr.open").first).to_be_visible()  # the demo's submission phase is open now


def fill_in_sign_up(page, server, email: str) -> None:
    page.goto(server + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Your name").fill("Nora Nordic")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password (at least 10 characters)").fill("a-good-long-password")
    page.get_by_label("Repeat the password").fill("a-good-long-password")
    page.get_by_role("button", name="Create my account").click()


def test_an_entrant_signs_up_follows_the_e_mailed_link_and_registers_a_team(page, server):
    fill_in_sign_up(page, server, "nora@nordic-ai.eu")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text("nora@nordic-ai.eu")).to_be_visible()
    page.goto(server + e_mailed_link("nora@nordic-ai.eu"))
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    section = page.locator("section", has=page.get_by_role("heading", name="Demo Grand Challenge"))
    section.get_by_label("Team (start-up) name").fill("Nordic AI")
    section.get_by_role("button", name="Register my team").click()
    expect(page.locator(".team-name", has_text="Nordic AI")).to_be_visible()


def test_signing_up_with_a_taken_address_shows_the_same_page_as_a_new_one(page, server):
    fill_in_sign_up(page, server, "aurora@demo.lagc.eu")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text("already exists")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)  # nobody was signed in


def test_sign_up_shows_a_message_next_to_each_bad_field(page, server):
    page.goto(server + "/signup")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_label("Password (at least 10 characters)").fill("short")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Invalid email address.")).to_be_visible()
    expect(page.get_by_text("This field is required.").first).to_be_visible()


def test_a_wrong_password_is_refused_in_words(page, server):
    sign_in(page, server, "aurora@demo.lagc.eu", "not-the-password")
    expect(page.get_by_text("The e-mail or the password is wrong.")).to_be_visible()


def test_an_entrant_cannot_open_the_organisers_invitations(page, server):
    sign_in(page, server, "aurora@demo.lagc.eu")
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    response = page.goto(server + "/invitations")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()


def test_an_organiser_invites_a_judge_who_joins_through_the_link(page, server, new_page):
    sign_in(page, server, "organiser@demo.lagc.eu")
    expect(page.get_by_role("heading", name="Organiser's console")).to_be_visible()
    page.get_by_role("link", name="Invitations").first.click()
    page.get_by_label("E-mail").fill("new.judge@example.eu")
    page.get_by_label("Role").select_option("judge")
    page.get_by_role("button", name="Create the invitation").click()
    link = page.locator("#invitation-link").inner_text()
    judge = new_page()  # a browser of their own
    judge.goto(link)
    judge.get_by_label("Your name").fill("New Judge")
    judge.get_by_label("Password (at least 10 characters)").fill("judge-password-1")
    judge.get_by_role("button", name="Create my account").click()
    # Judges sign in with an authenticator: the platform holds them on the enrolment page until they have one.
    secret = judge.locator("#totp-secret").inner_text()
    judge.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    judge.get_by_role("button", name="Turn on two-factor authentication").click()
    assert judge.locator("#recovery-codes li").count() == 10
    judge.get_by_role("link", name="Continue to your dashboard").click()
    expect(judge.get_by_role("heading", name="Judge's dashboard")).to_be_visible()


def test_a_forged_cross_site_form_is_rejected(server):
    request = urllib.request.Request(server + "/signin", data=b"email=a%40b.eu&password=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 400


def test_the_pages_are_keyboard_navigable(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert re.search(r"#main$", page.url)
