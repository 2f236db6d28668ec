"""Phase gating in a real browser: the entrant's dashboard says when registration closed instead of offering a
form that would only fail, and shows the demo's open submission phase with its deadline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e


def test_the_dashboard_shows_why_a_closed_challenge_takes_no_registration(page, server):
    sign_in(page, server, "baltic@demo.lagc.eu")
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    closed = page.locator("section", has=page.get_by_role("heading", name="Large AI Grand Challenge 2024"))
    expect(closed.get_by_text("Team registration closed on 16 Jan 2024 16:00 UTC.")).to_be_visible()
    expect(closed.get_by_role("button", name="Register my team")).to_have_count(0)
    demo = page.locator("section", has=page.get_by_role("heading", name="Demo Grand Challenge"))
    expect(demo.get_by_text("Current phase: Checkpoint submission (late registration open)")).to_be_visible()
    expect(demo.locator('.phase-gate[data-action="submit"][data-allowed="yes"]')).to_contain_text(
        "Checkpoint submissions close on"
    )
