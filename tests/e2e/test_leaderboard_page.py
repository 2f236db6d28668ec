"""The public leaderboard in headless Chromium: the demo's synthetic board, sorting by a column through a
link, filtering through the form, an entry page with its charts; screenshot leaderboard.png in the artefacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_public_follows_the_board_sorts_filters_and_opens_an_entry(server, page, artifacts):
    page.goto(f"{server}/leaderboard?challenge=synthetic")
    assert page.locator("h1").inner_text().startswith("Leaderboard: Synthetic Grand Challenge")
    assert page.locator("table.leaderboard tbody tr").count() == 50
    assert page.locator("svg#distribution title").first.text_content() == "Distribution of scores per task"
    assert "hidden_reasoning" not in page.content()
    assert "never replaces a scored one" in page.locator("#counted-rule").inner_text()  # the rule, stated
    page.screenshot(path=str(artifacts / "leaderboard.png"), full_page=False)

    page.get_by_role("link", name="Team").first.click()
    page.wait_for_url("**sort=team**")  # a click does not wait for the page it opens (a loaded machine shows it)
    first_team = page.locator("table.leaderboard tbody tr td:nth-child(2)").first.inner_text()
    assert first_team == "Synthetic 00000"

    page.select_option("select[name=licence]", "pass")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**licence=pass**")
    assert "sort=team" in page.url
    expect(page.locator("table.leaderboard tbody .badge").first).to_be_visible()  # the filtered board has loaded
    badges = page.locator("table.leaderboard tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"pass"}

    page.locator("table.leaderboard tbody tr td:nth-child(2) a").first.click()
    page.wait_for_url("**/entries/**")
    assert page.locator("svg#task-profile").count() == 1
    assert page.get_by_role("heading", name="Why this place").count() == 1
