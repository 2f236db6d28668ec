"""The public leaderboard in headless Chromium: the demo's synthetic board, sorting by a column through a
link, filtering through the form, an entry page with its charts; screenshot in test-artifacts/leaderboard.png."""
from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.e2e


def test_the_public_follows_the_board_sorts_filters_and_opens_an_entry(server, page):
    page.goto(f"{server}/leaderboard?challenge=synthetic")
    assert page.locator("h1").inner_text().startswith("Leaderboard: Synthetic Grand Challenge")
    assert page.locator("table.leaderboard tbody tr").count() == 50
    assert page.locator("svg#distribution title").first.text_content() == "Distribution of scores per task"
    assert "hidden_reasoning" not in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=False)

    page.get_by_role("link", name="Team").first.click()
    assert "sort=team" in page.url
    first_team = page.locator("table.leaderboard tbody tr td:nth-child(2)").first.inner_text()
    assert first_team == "Synthetic 00000"

    page.select_option("select[name=licence]", "pass")
    page.get_by_role("button", name="Apply").click()
    assert "licence=pass" in page.url and "sort=team" in page.url
    badges = page.locator("table.leaderboard tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"pass"}

    page.locator("table.leaderboard tbody tr td:nth-child(2) a").first.click()
    assert "/entries/" in page.url
    assert page.locator("svg#task-profile").count() == 1
    assert page.get_by_role("heading", name="Why this place").count() == 1
