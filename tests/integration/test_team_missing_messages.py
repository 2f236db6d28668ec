"""An entrant without a team is told to register only while registration is open; after it closed (the 2026
challenge's closed in April 2026 while its submissions run to 2027), the pages and the API say so, in the
phase gate's words, instead of sending them to a registration form that refuses them."""

from __future__ import annotations

import re

import pytest

from tests.helpers import bearer, sign_in


@pytest.fixture
def frontier(db):
    """The bundled 2026 challenge as shipped, with the reason its registration is closed now."""
    from app.challenges.services import load_config_file, phase_gate
    from app.settings import BUNDLED_CHALLENGES

    with db() as session:
        challenge = load_config_file(session, BUNDLED_CHALLENGES / "frontier-2026.toml")
        gate = phase_gate(challenge, "register")
        assert not gate.allowed, "the 2026 challenge's registration is expected to be closed"
        return challenge.slug, gate.reason


@pytest.fixture
def entrant(client, make_user):
    make_user("ada@aurora.fi")
    sign_in(client, "ada@aurora.fi")
    return client


def test_the_submissions_page_says_registration_closed_rather_than_register_first(entrant, frontier):
    slug, reason = frontier
    html = entrant.get(f"/c/{slug}/submissions").get_data(as_text=True)
    assert reason in html and "register a team" not in html.lower()


def test_the_eligibility_page_says_registration_closed_rather_than_register_first(entrant, frontier):
    slug, reason = frontier
    html = entrant.get(f"/c/{slug}/eligibility", follow_redirects=True).get_data(as_text=True)
    flashed = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert reason in flashed and "register your team" not in flashed.lower()


def test_the_api_says_registration_closed_when_a_teamless_entrant_submits(client, make_user, db, frontier):
    slug, reason = frontier
    response = client.post(
        f"/api/v1/challenges/{slug}/submissions",
        json={"label": "Aurora 30B v1"},
        headers=bearer(client, make_user, db, "ada@aurora.fi"),
    )
    assert response.status_code == 403 and reason in response.get_json()["detail"]


def test_while_registration_is_open_a_teamless_entrant_is_told_to_register(entrant, challenge):
    html = entrant.get(f"/c/{challenge}/submissions").get_data(as_text=True)
    assert "Register a team for" in html
