"""A team named with 120 characters and no space never widens a page: on the board, the judges' organise page
and every other page that shows it, at desktop and at phone width, the name wraps or is cut after two lines,
with the full name in its title (on hover) and in its text (for screen readers). Screenshots in the artefacts."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.teams.models import Team, TeamMembership
from tests import factories
from tests.e2e.pagecheck import DESKTOP, PHONE
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
LONG = ("Quantumleapfoundationmodels" * 5)[:120]
WIDE = "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth})"


def _suite(session, challenge_id: int) -> list[str]:
    """The challenge's benchmark task names."""
    from app.challenges.config import parse_section
    from app.challenges.models import Challenge
    from app.challenges.services import config_of

    return [task.name for task in parse_section(config_of(session.get(Challenge, challenge_id)), "benchmark")]


def _evaluate(server_db, team_id: int) -> None:
    """A finished evaluation of an accepted submission (its label long too) for the team, as the scheduler
    leaves one."""
    with server_db() as session:
        team = session.get(Team, team_id)
        member = session.exec(select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)).first()
        submission = factories.submission(
            session, team.challenge_id, team.id, member, label=LONG[::-1], parameters=1_000_000, total_bytes=4_000_000
        )
        factories.evaluation(
            session, submission, {task: (0.9, 0.01) for task in _suite(session, team.challenge_id)}, cluster="local"
        )


def _fits(page, table: str | None = None) -> None:
    """The page is no wider than the window; ``table`` no wider than the region it scrolls in (desktop)."""
    size = page.evaluate(WIDE)
    assert size["page"] <= size["window"], size
    if table is not None and size["window"] >= DESKTOP["width"]:
        box, region = page.locator(table).bounding_box(), page.locator(table).locator("xpath=..").bounding_box()
        assert box["width"] <= region["width"] + 1, (box, region)


def _both_widths(page, artifacts, name: str, table: str | None = None) -> None:
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        _fits(page, table)
        page.screenshot(path=str(artifacts / f"long-name-{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _named(page):
    """The long name, shown with its full text in the title."""
    shown = page.locator(f'.name[title="{LONG}"]').first
    expect(shown).to_have_text(LONG)
    return shown


@pytest.fixture
def long_named_team(new_page, server, server_db) -> int:
    """An entrant registers a team with the long name through the pages (once a session); its entry is
    evaluated."""
    with server_db() as session:
        existing = session.exec(select(Team.id).where(Team.name == LONG)).first()
    if existing is not None:
        return existing
    with server_db() as session:  # an account as the e-mailed sign-up link makes it (tests/e2e/test_accounts_flow.py)
        factories.user(session, "lena@long-names.eu", password="a-good-long-password", name="Lena Long")
    page = new_page()
    sign_in(page, server, "lena@long-names.eu", "a-good-long-password")
    page.goto(server + "/dashboard")
    section = page.locator("section", has=page.get_by_role("heading", name="Demo Grand Challenge"))
    section.get_by_label("Team (start-up) name").fill(LONG)
    section.get_by_role("button", name="Register my team").click()
    expect(page.locator(".team-name")).to_have_text(LONG)
    with server_db() as session:
        team_id = factories.team_named(session, LONG).id
    _evaluate(server_db, team_id)
    return team_id


def test_a_long_team_name_wraps_on_the_board_and_its_entry_at_both_widths(long_named_team, new_page, server, artifacts):
    page = new_page()
    deadline = time.monotonic() + 30
    while True:  # the scheduler recomputes the board within seconds of the new result
        page.goto(f"{server}/leaderboard?challenge=demo")
        if page.locator(f'.name[title="{LONG}"]').count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    cell = _named(page).locator("xpath=ancestor::td")
    assert cell.bounding_box()["width"] <= 16 * 16 + 20  # the Team column's widest (16rem and padding)
    _both_widths(page, artifacts, "leaderboard", "table.leaderboard")
    page.goto(f"{server}/leaderboard/demo/entries/{long_named_team}")
    _named(page)
    _both_widths(page, artifacts, "entry")


def test_a_long_team_name_never_widens_the_organisers_and_judges_pages(long_named_team, new_page, server, artifacts):
    page = new_page()
    sign_in(page, server, "organiser@demo.lagc.eu")
    page.goto(f"{server}/c/demo/judging/organise")
    _named(page)
    _both_widths(page, artifacts, "judging-organise", "table.judging-matrix")
    header = page.locator("header.site").bounding_box()
    assert page.locator("main").bounding_box()["width"] <= header["width"]
    for path in (f"/c/demo/scorecards/{long_named_team}", "/c/demo/submissions"):
        page.goto(server + path)
        _named(page)
        _fits(page)
    page.goto(f"{server}/organiser/audit?action=team.")  # the registration's details hold the name as text
    expect(page.locator("#events")).to_contain_text(LONG)
    _both_widths(page, artifacts, "audit")
