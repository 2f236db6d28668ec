"""An organiser resolves a licence review in a real browser against the running platform."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts.services import find_user
from tests import factories
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
LABEL = "baltic-7b (e2e licence review)"


@pytest.fixture
def submission_in_review(server_db) -> int:
    """A Baltic Tensor submission recorded in licence review, written to the running platform's database."""
    with server_db() as session:
        team = factories.team_named(session, "Baltic Tensor (LV)")
        entrant = find_user(session, "baltic@demo.lagc.eu")
        return factories.submission(
            session,
            team.challenge_id,
            team.id,
            entrant.id,
            label=LABEL,
            licence_verdict="review",
            licence_id="llama3",
            licence_reasons=[
                "The model card names meta-llama/Meta-Llama-3-8B as base_model; "
                "the challenge asks for models trained from scratch."
            ],
        ).id


def test_an_organiser_resolves_a_licence_review_with_a_justification(page, server, submission_in_review):
    sign_in(page, server, "organiser@demo.lagc.eu")
    page.goto(server + "/organiser/licences")
    card = page.locator(f"section[data-submission='{submission_in_review}']")
    expect(card.get_by_text("Meta-Llama-3-8B", exact=False)).to_be_visible()
    card.get_by_label("Fail: the licence is not acceptable").check()
    card.get_by_label("Justification", exact=False).fill(
        "Fine-tuned from Llama 3, not trained from scratch as the rules require."
    )
    card.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text(f"Licence of submission '{LABEL}' resolved: fail.")).to_be_visible()
    assert page.locator(f"section[data-submission='{submission_in_review}']").count() == 0
