"""The page and the API hold figures to the same bounds with the same words: a turnover of 1e999 typed into
the form is refused, as 1e400 is on the API, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.eligibility.application import MAX_EUR, MAX_PARAMETERS
from app.eligibility.models import EligibilityApplication
from tests.helpers import sign_in, submit

FORM = {
    "legal_name": "Aurora Language Labs Oy",
    "country": "FI",
    "founded_on": "2021-05-10",
    "staff_headcount": "24",
    "annual_turnover_eur": "1800000",
    "balance_sheet_total_eur": "2500000",
    "accounts_approved": "yes",
    "public_bodies_control_percent": "0",
    "responsible_ai_commitment": "y",
    "large_scale_ai_experience": "We trained a 13B Finnish-English model on LUMI in 2023.",
    "planned_parameters": "34000000000",
    "planned_from_scratch": "yes",
    "send": "Send the application",
}


@pytest.fixture
def entrant_page(client, team, challenge):
    """An entrant with a team, signed in; returns a function posting the application form with changes."""
    team("ada@aurora.fi", "Aurora Labs")
    sign_in(client, "ada@aurora.fi")
    return lambda **changes: submit(client, f"/c/{challenge}/eligibility", {**FORM, **changes})


@pytest.mark.parametrize("typed", ["1e999", "1e9999999999999999999", "10000000000001"])
def test_a_turnover_typed_too_large_is_refused_with_the_apis_message(client, entrant_page, document, db, typed):
    response = entrant_page(annual_turnover_eur=typed)
    assert response.status_code == 422
    assert f"annual_turnover_eur: must be between 0 and {MAX_EUR:,}" in response.get_data(as_text=True)
    api = client.post(
        "/api/v1/eligibility/check",
        data=json.dumps(document()).replace('"annual_turnover_eur": 1800000', '"annual_turnover_eur": 1e400'),
        content_type="application/json",
    )
    assert api.status_code == 422
    assert api.get_json()["errors"] == {"annual_turnover_eur": [f"must be between 0 and {MAX_EUR:,}"]}
    with db() as session:
        assert session.exec(select(EligibilityApplication)).all() == []


def test_a_planned_model_typed_too_large_is_refused_on_the_page_and_the_api(client, entrant_page, document):
    response = entrant_page(planned_parameters="1" + "0" * 20)
    assert f"must be between 1 and {MAX_PARAMETERS:,}" in response.get_data(as_text=True)
    api = client.post(
        "/api/v1/eligibility/check", json=document(planned_model={"parameters": 10**20, "from_scratch": True})
    )
    assert api.get_json()["errors"] == {"planned_model.parameters": [f"must be between 1 and {MAX_PARAMETERS:,}"]}
