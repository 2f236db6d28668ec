"""Eligibility in a real browser: an entrant applies, an organiser confirms the evidence, the entrant is eligible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.signin import sign_in, sign_up

pytestmark = pytest.mark.e2e
PASSWORD = "a-good-long-password"


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def sign_up_with_a_team(page, server, email: str, team: str) -> None:
    sign_up(page, server, email, PASSWORD, "Elin Estonian")
    section = page.locator("section", has=page.get_by_role("heading", name="Demo Grand Challenge"))
    section.get_by_label("Team (start-up) name").fill(team)
    section.get_by_role("button", name="Register my team").click()


def fill_in_the_application(page) -> None:
    page.get_by_label("Legal name of the enterprise").fill("Tallinn Tensor OÜ")
    page.get_by_label("Country of the registered office").select_option("EE")
    page.get_by_label("Founded on").fill("2022-03-01")
    page.locator("#staff_headcount").fill("17")
    page.locator("#annual_turnover_eur").fill("950000")
    page.locator("#balance_sheet_total_eur").fill("1200000")
    page.locator("#accounts_approved").get_by_label("Yes").check()
    page.locator("#partner_enterprises-0-name").fill("Estonian Angels OÜ")
    page.locator("#partner_enterprises-0-stake_percent").fill("30")
    page.locator("#partner_enterprises-0-investor_type").select_option("business_angel")
    page.locator("#partner_enterprises-0-staff_headcount").fill("2")
    page.locator("#partner_enterprises-0-annual_turnover_eur").fill("100000")
    page.locator("#partner_enterprises-0-balance_sheet_total_eur").fill("400000")
    page.get_by_label("Share held by public bodies (%)").fill("0")
    page.get_by_label("We commit to the EU's principles for trustworthy AI").check()
    page.get_by_label("Evidence of experience with large-scale AI models").fill(
        "We trained a 7B Estonian model on LUMI in 2024; report at tallinn-tensor.example/7b."
    )
    page.get_by_label("Parameters of the planned model").fill("32000000000")
    page.locator("#planned_from_scratch").get_by_label("Yes").check()


def test_an_entrant_applies_and_becomes_eligible_once_an_organiser_confirms(page, server):
    sign_up_with_a_team(page, server, "elin@tallinn-tensor.eu", "Tallinn Tensor")
    page.get_by_role("link", name="Fill in the eligibility application").click()
    page.locator("#staff_headcount").fill("-5")
    page.get_by_role("button", name="Send the application").click()
    expect(page.get_by_text("The application was not saved")).to_be_visible()
    expect(page.locator("#staff_headcount-errors").get_by_text("must not be negative")).to_be_visible()

    fill_in_the_application(page)
    page.get_by_role("button", name="Send the application").click()
    expect(page.get_by_text("Version 1 of your application is saved.")).to_be_visible()
    expect(page.locator(".eligibility-verdict [data-eligibility='needs_review']")).to_be_visible()
    experience = page.locator("tr[data-rule='experience']")
    expect(experience.get_by_text("An organiser will check your evidence")).to_be_visible()
    expect(page.get_by_text("waiting for an organiser's review")).to_be_visible()
    sign_out(page)

    sign_in(page, server, "organiser@demo.lagc.eu")
    page.get_by_role("link", name="Eligibility reviews").click()
    page.get_by_role("link", name="Tallinn Tensor").click()
    expect(page.get_by_text("tallinn-tensor.example/7b").first).to_be_visible()
    page.get_by_role("button", name="Confirm the experience evidence").click()
    expect(page.get_by_text("Experience confirmed: Tallinn Tensor is now eligible.")).to_be_visible()
    sign_out(page)

    sign_in(page, server, "elin@tallinn-tensor.eu", PASSWORD)
    expect(page.locator("[data-eligibility='eligible']")).to_be_visible()
    page.get_by_role("link", name="Your eligibility application").click()
    expect(page.locator("tr[data-rule='experience'][data-outcome='pass']")).to_be_visible()
    expect(page.get_by_text("Your team is eligible.")).to_be_visible()


def test_an_override_in_the_browser_needs_a_justification(page, server):
    sign_in(page, server, "organiser@demo.lagc.eu")
    page.goto(server + "/organiser/eligibility")
    page.get_by_role("link", name="Iberia NLP (PT)").click()
    expect(page.locator(".eligibility-verdict [data-eligibility='needs_review']")).to_be_visible()
    page.get_by_label("Eligible", exact=True).check()
    page.get_by_role("button", name="Override the verdict").click()
    expect(page.locator(".flash.error", has_text="Write a justification of at least 20 characters")).to_be_visible()
    expect(page.locator(".eligibility-verdict [data-eligibility='needs_review']")).to_be_visible()
