"""What a judge and an organiser see in a real browser: a recused judge is told so and offered only the other
teams; finalising judging asks for a tick that names the consequence, then names each missing score sheet and
asks again. The demo's judging stays open (the lock is not completed here: other tests score in the demo)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e


def test_a_recused_judge_is_told_so_and_the_conflict_form_offers_only_the_other_teams(page, server, server_db):
    with server_db() as session:
        baltic = factories.team_named(session, "Baltic Tensor (LV)").id
    sign_in(page, server, "judge2@demo.lagc.eu")
    page.goto(server + "/c/demo/judging")
    team = page.get_by_label("Team")
    assert team.locator("option").first.inner_text() == "Choose a team"
    assert team.locator("option", has_text="Baltic Tensor").count() == 0  # recused already
    page.get_by_label("Why", exact=False).fill("I advised them once.")
    page.get_by_role("button", name="Declare the conflict").click()
    expect(page.get_by_text("Choose a team.")).to_be_visible()  # the empty choice is refused, nothing declared
    response = page.goto(f"{server}/c/demo/scorecards/{baltic}")
    assert response.status == 403
    expect(page.get_by_text("You are recused from this entry")).to_be_visible()
    assert "Benchmarks" not in page.content()


def test_finalising_judging_names_the_consequence_then_each_missing_sheet_and_asks_again(page, server):
    sign_in(page, server, "organiser@demo.lagc.eu")
    page.goto(server + "/c/demo/judging/organise")
    tick = page.get_by_label("I understand that locking is final")
    expect(tick).to_be_visible()
    page.get_by_role("button", name="Finalise judging (lock scores)").click()  # not ticked: the browser holds it
    expect(page.locator("[data-judging-state='open']")).to_be_visible()
    tick.check()
    page.get_by_role("button", name="Finalise judging (lock scores)").click()
    missing = page.locator("[data-missing-sheets]")
    expect(missing).to_contain_text("Jonas Judge has not scored Baltic Tensor (LV)")
    expect(page.get_by_role("button", name="Lock anyway", exact=False)).to_be_visible()
    expect(page.get_by_label("I understand that locking is final")).not_to_be_checked()  # asked again
    expect(page.locator("[data-judging-state='open']")).to_be_visible()
