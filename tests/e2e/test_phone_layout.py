"""On a phone (390x844): the board shows rank, team and benchmark score ± SE on its first screen and keeps rank
and team in view while the per-task columns scroll (by keyboard too); charts and a scorecard keep their text at
11 CSS px or more. Screenshots go into the e2e artefacts folder (tests/e2e/artifacts/ or LAGC_E2E_ARTIFACTS)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.signin import sign_in
from tests.e2e.pagecheck import PHONE

pytestmark = pytest.mark.e2e
ROW = "table.leaderboard tbody tr:first-child"
# The size a chart's text is drawn at on the screen: its font size times the chart's scale (a viewBox would
# shrink it with the chart).
SMALLEST_TEXT = """(svg) => Math.min(...[...svg.querySelectorAll('text')]
  .map((text) => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a))"""


def _on_first_screen(locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def test_on_a_phone_the_board_shows_rank_team_and_score_first_and_keeps_them_in_view(new_page, server, artifacts):
    page = new_page(PHONE)
    page.goto(f"{server}/leaderboard?challenge=synthetic")
    row = page.locator(ROW)
    rank, team, score = row.locator("td").first, row.locator("td.team"), row.locator("td.num").first
    for cell in (rank, team, score):
        _on_first_screen(cell)
    assert "±" in score.inner_text() and team.inner_text().startswith("Synthetic")
    page.screenshot(path=str(artifacts / "phone-leaderboard.png"))

    region = page.get_by_role("region", name="Ranked entries")
    region.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert region.evaluate("box => box.scrollLeft") > 0  # a keyboard scrolls the table
    region.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    _on_first_screen(rank)
    _on_first_screen(team)
    _on_first_screen(row.locator("td").last)  # the last task's column, next to them
    page.screenshot(path=str(artifacts / "phone-leaderboard-scrolled.png"))


def test_on_a_phone_the_charts_keep_their_text_readable(new_page, server, artifacts):
    page = new_page(PHONE)
    page.goto(f"{server}/leaderboard?challenge=synthetic")
    for chart in ("svg#distribution", "svg#timeline"):
        assert page.locator(chart).evaluate(SMALLEST_TEXT) >= 11, chart
    page.locator(f"{ROW} td.team a").click()
    expect(page.locator("svg#task-profile")).to_be_visible()
    assert page.locator("svg#task-profile").evaluate(SMALLEST_TEXT) >= 11
    page.locator("svg#task-profile").screenshot(path=str(artifacts / "phone-entry-chart.png"))


def test_on_a_phone_a_judge_reads_a_scorecard(new_page, server, artifacts):
    page = new_page(PHONE)
    sign_in(page, server, "judge@demo.lagc.eu")
    page.goto(f"{server}/c/demo/judging")
    page.locator("table.judge-entries tbody a").first.click()
    expect(page.get_by_role("heading", name="Against the field")).to_be_visible()
    assert page.locator(".judging-chart svg").evaluate(SMALLEST_TEXT) >= 11
    benchmarks = page.get_by_role("region", name="Per-task results of the counted evaluation")
    assert benchmarks.get_attribute("tabindex") == "0"
    page.screenshot(path=str(artifacts / "phone-scorecard.png"), full_page=True)
