"""The organiser console in a real browser: the organiser moves a phase date in the configuration editor,
previews the diff and the change in words, and saves."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
OLD_END = "ends = 2025-06-26T08:00:00Z"
NEW_END = "ends = 2025-06-30T08:00:00Z"


def test_an_organiser_edits_a_phase_date_previews_the_diff_and_saves(page, server):
    sign_in(page, server, "organiser@demo.lagc.eu")
    page.goto(server + "/organiser/")
    page.get_by_role("link", name="Large AI Grand Challenge 2024").click()
    page.get_by_role("link", name="Edit the configuration").click()
    editor = page.get_by_label("Configuration (TOML)")
    text = editor.input_value()
    assert OLD_END in text
    editor.fill(text.replace(OLD_END, NEW_END))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#changes")).to_contain_text(
        "Phase 'award' ends 2025-06-30 08:00 UTC instead of 2025-06-26 08:00 UTC."
    )
    expect(page.locator("#diff .add")).to_have_text([f"+{NEW_END}"])
    expect(page.locator("#diff .remove")).to_have_text([f"-{OLD_END}"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: 1 change(s).")).to_be_visible()
    expect(page.locator("section[aria-labelledby=configuration]")).to_contain_text("2025-06-30 08:00")
    page.goto(server + "/organiser/audit?action=challenge.config_edited")
    expect(page.locator("#events")).to_contain_text("organiser@demo.lagc.eu")
