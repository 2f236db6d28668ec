"""An organiser previews and confirms the prize award in a real browser, publishes it, and the public winners
page shows the amounts. The award's inputs (a settled challenge of its own, next to the demo) are written
straight into the running platform's database, as the other features would have left them."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

import app.models  # noqa: F401  (every table, so the foreign keys resolve)
from app.accounts.models import User
from app.accounts.totp import code_at, demo_secret, step_at
from app.db import make_engine, session_scope, utcnow
from tests.integration.prizes.conftest import SLUG, World, load_challenge

pytestmark = pytest.mark.e2e
DEMO_PASSWORD = "demo-password-2026"
ORGANISER = "organiser@demo.lagc.eu"


@pytest.fixture
def settled_challenge(server, server_database_url) -> str:
    """A challenge with judging locked, the board frozen and four entries (one a baseline)."""
    engine = make_engine(server_database_url)
    db = lambda: session_scope(engine)  # noqa: E731
    with db() as session:
        ids = {u.email: u.id for u in session.exec(select(User)).all()}
    world = World(db, load_challenge(db), ids["aurora@demo.lagc.eu"], ids["judge@demo.lagc.eu"],
                  ids["organiser@demo.lagc.eu"])
    world.entry("Aurora", 0.85)
    world.entry("Reference", 0.775, baseline=True)
    world.entry("Baltic", 0.70)
    world.entry("Iberia", 0.55)
    world.settle()
    engine.dispose()
    return SLUG


def _sign_in_organiser(page, server: str, database_url: str) -> None:
    """Password, then (organisers have an authenticator) the current code of the demo secret."""
    page.goto(server + "/signin")
    page.get_by_label("E-mail").fill(ORGANISER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if page.url.split("?")[0].endswith("/signin/code"):
        _forget_last_code(database_url)  # another test may have used this 30-second step already
        page.get_by_label("Code").fill(code_at(demo_secret(ORGANISER), step_at(utcnow())))
        page.get_by_role("button", name="Sign in").click()


def _forget_last_code(database_url: str) -> None:
    from app.accounts.twofactor import credential_of

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.email == ORGANISER)).one()
        credential = credential_of(session, user.id)
        if credential is not None:
            credential.last_used_step = None
            session.add(credential)
    engine.dispose()


def test_an_organiser_previews_confirms_and_publishes_and_the_public_sees_the_winners(
        page, browser, server, server_database_url, settled_challenge):
    _sign_in_organiser(page, server, server_database_url)
    page.goto(f"{server}/organiser/c/{settled_challenge}/prizes")
    preview = page.locator("table.prize-preview")
    expect(preview.locator("tr[data-team='Aurora'][data-status='in']")).to_be_visible()
    assert "baselines never win" in preview.locator("tr[data-team='Reference']").inner_text()
    page.get_by_role("button", name="Confirm the award").click()
    expect(page.get_by_text("The award is confirmed and recorded.")).to_be_visible()
    expect(page.locator("[data-chain='ok']")).to_be_visible()
    page.get_by_role("button", name="Publish the winners page").click()
    expect(page.get_by_text("The winners page is public.")).to_be_visible()

    public = browser.new_context().new_page()
    response = public.goto(f"{server}/c/{settled_challenge}/winners")
    assert response.status == 200
    table = public.locator("table.winners")
    assert "EUR 500,000.00" in table.locator("tr[data-team='Aurora']").inner_text()
    assert "EUR 500,000.00" in table.locator("tr[data-team='Baltic']").inner_text()
    assert table.locator("tr[data-team='Iberia']").count() == 0
    public.context.close()
