"""An organiser previews and confirms the prize award in a real browser, publishes it, and the public winners
page shows the amounts; the winning team's dashboard says what it won and what it must release. The award's
inputs (a settled challenge of its own, next to the demo) are written
straight into the running platform's database, as the other features would have left them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts.services import find_user
from app.teams.models import TeamMembership
from tests.e2e.pagecheck import DESKTOP, PHONE
from tests.e2e.signin import sign_in
from tests.factories import PRIZE_SLUG, prize_world

pytestmark = pytest.mark.e2e
ORGANISER = "organiser@demo.lagc.eu"


@pytest.fixture
def settled_challenge(server_db) -> str:
    """A challenge with judging locked, the board frozen and four entries (one a baseline)."""
    with server_db() as session:
        people = {
            role: find_user(session, email).id
            for role, email in (
                ("entrant", "aurora@demo.lagc.eu"),
                ("judge", "judge@demo.lagc.eu"),
                ("organiser", ORGANISER),
            )
        }
    world = prize_world(server_db, people)
    aurora = world.entry("Aurora", 0.85)
    with server_db() as session:  # the demo's Aurora entrant is this challenge's Aurora team too
        session.add(TeamMembership(team_id=aurora, user_id=people["entrant"], challenge_id=world.challenge_id))
    world.entry("Reference", 0.775, baseline=True)
    world.entry("Baltic", 0.70)
    world.entry("Iberia", 0.55)
    world.settle()
    return PRIZE_SLUG


def test_an_organiser_previews_confirms_and_publishes_and_the_public_sees_the_winners(
    page, new_page, server, settled_challenge, artifacts
):
    sign_in(page, server, ORGANISER)
    page.goto(f"{server}/organiser/c/{settled_challenge}/prizes")
    preview = page.locator("table.prize-preview")
    expect(preview.locator("tr[data-team='Aurora'][data-status='in']")).to_be_visible()
    # One judge scored each entry: the final score has no ±, and says why.
    expect(preview.locator("tr[data-team='Aurora'] [data-no-se]")).to_have_text("no ±: one judge")
    assert "baselines never win" in preview.locator("tr[data-team='Reference']").inner_text()
    page.set_viewport_size(PHONE)  # for a reviewer: on a phone, each team of the preview is a card
    preview.screenshot(path=str(artifacts / "phone-prize-preview.png"))
    page.set_viewport_size(DESKTOP)
    confirm = page.locator("form[data-confirm='award']")
    expect(confirm.get_by_text("Aurora: EUR 500,000.00")).to_be_visible()  # what confirming does, by name
    expect(confirm.get_by_text("cannot be edited or deleted afterwards")).to_be_visible()
    page.get_by_role("button", name="Confirm the award").click()  # not ticked: the browser keeps the form
    expect(page.locator("[data-chain='ok']")).to_contain_text("0 record(s)")
    confirm.get_by_label("I confirm this award").check()
    page.get_by_role("button", name="Confirm the award").click()
    expect(page.get_by_text("The award is confirmed and recorded.")).to_be_visible()
    expect(page.locator("[data-chain='ok']")).to_be_visible()

    # The winners page follows the judges' scores: publish those first, on the Judging page.
    expect(page.locator("[data-publish-blocked]")).to_contain_text("Publish the judges' scores first")
    page.get_by_role("link", name="Go to the Judging page").click()
    page.get_by_label("I understand that publishing is final").check()
    page.get_by_role("button", name="Publish the judges' scores").click()
    expect(page.get_by_text("Judges' scores published.")).to_be_visible()
    page.goto(f"{server}/organiser/c/{settled_challenge}/prizes")
    page.get_by_label("I understand that the winners page becomes public").check()
    page.get_by_role("button", name="Publish the winners page").click()
    expect(page.get_by_text("The winners page is public.")).to_be_visible()

    public = new_page()
    response = public.goto(f"{server}/c/{settled_challenge}/winners")
    assert response.status == 200
    table = public.locator("table.winners")
    assert "EUR 500,000.00" in table.locator("tr[data-team='Aurora']").inner_text()
    assert "EUR 500,000.00" in table.locator("tr[data-team='Baltic']").inner_text()
    assert table.locator("tr[data-team='Iberia']").count() == 0

    winner = new_page()  # the winning team's dashboard says what it won and what it must release
    sign_in(winner, server, "aurora@demo.lagc.eu")
    card = winner.locator("[data-prize='won']")
    expect(card).to_contain_text("Your team won")
    expect(card).to_contain_text("EUR 500,000.00, 500 GPU hours on LUMI and 300 GPU hours on LEONARDO")
    expect(card).to_contain_text("allowing at least non-commercial use")
    expect(card.locator("[data-release-standing]")).to_contain_text("Not released yet")
