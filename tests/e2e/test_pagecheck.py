"""The checks every browser test runs can fail: each kind of problem planted in a real page (served with the
platform's own Content-Security-Policy) is reported, and a page reached by a click is checked before the test's
next step."""

from __future__ import annotations

import pytest

from tests.e2e.pagecheck import DESKTOP, PageChecker, audit_now

pytestmark = pytest.mark.e2e
PLANT = """() => {
  const main = document.querySelector('main');
  main.insertAdjacentHTML('beforeend', '<img src="/no-such.png"><p id="twice">a</p><p id="twice">b</p>'
    + '<label for="field">One</label><label for="field">Two</label><input id="field"><div id="wide">wide</div>');
  document.getElementById('wide').style.width = '3000px';  /* through the CSSOM: the policy allows it */
  main.insertAdjacentHTML('beforeend', '<p style="color: red">an inline style</p>');  /* the policy blocks it */
}"""


@pytest.fixture
def checked(browser, axe):
    """A page with a checker that is not failed at the end (this test looks at what it found)."""
    context = browser.new_context(viewport=DESKTOP)
    checker = PageChecker(context.new_page(), axe, set()).attach()
    yield checker
    checker.detach()
    context.close()


def test_each_kind_of_problem_planted_in_a_page_is_reported(checked, server, axe):
    page = checked.page
    page.goto(server + "/privacy")
    assert audit_now(page, axe) == []
    page.evaluate(PLANT)
    found = "\n".join(audit_now(page, axe))
    for rule in (
        "image-alt",
        "duplicate-id",
        "#twice (2 times)",
        "one-label-per-field",
        "no-sideways-scroll",
        "at 1280x800",
        "at 390x844",
    ):
        assert rule in found, (rule, found)
    for _ in range(20):  # the browser reports the violation as an event, soon after
        if checked.csp:
            break
        page.wait_for_timeout(100)
    assert checked.csp and "style-src" in checked.csp[0], checked.csp


def test_a_page_reached_by_a_click_is_checked_before_the_next_step(checked, server):
    page = checked.page
    page.goto(server + "/")
    page.get_by_role("link", name="Leaderboard").first.click()
    page.wait_for_url("**/leaderboard")
    assert page.locator("h1").count() == 1  # any step: the board is audited first
    audited = {(path, width) for _, _, path, width in checked.audited}
    assert {("/", 1280), ("/", 390), ("/leaderboard", 1280), ("/leaderboard", 390)} <= audited
    assert checked.problems == []
