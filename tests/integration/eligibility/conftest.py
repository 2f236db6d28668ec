"""Fixtures for the eligibility integration tests: a valid application document and teams with API tokens."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from app.accounts.models import Role
from tests.integration.conftest import bearer

APPLICATION: dict[str, Any] = {
    "legal_name": "Aurora Language Labs Oy", "country": "FI", "founded_on": "2021-05-10",
    "staff_headcount": 24, "annual_turnover_eur": 1_800_000, "balance_sheet_total_eur": 2_500_000,
    "accounts_approved": True, "previous_period": None, "partner_enterprises": [], "linked_enterprises": [],
    "public_bodies_control_percent": 0, "responsible_ai_commitment": True,
    "large_scale_ai_experience": "We trained a 13B Finnish-English model on LUMI in 2023.",
    "planned_model": {"parameters": 34_000_000_000, "from_scratch": True},
}


@pytest.fixture
def document():
    """A fresh valid application with some top-level fields replaced: `document(country="NO")`."""
    return lambda **overrides: {**copy.deepcopy(APPLICATION), **copy.deepcopy(overrides)}


@pytest.fixture
def team(client, make_user, db, challenge):
    """Register a team through the API: `team("a@x.eu", "Team A")` -> (headers, team_id)."""
    def make(email: str, name: str) -> tuple[dict, int]:
        headers = bearer(client, make_user, db, email)
        response = client.post("/api/v1/teams", json={"challenge": challenge, "name": name}, headers=headers)
        assert response.status_code == 201, response.get_json()
        return headers, response.get_json()["id"]
    return make


@pytest.fixture
def organiser(client, make_user, db):
    """API headers of an organiser."""
    return bearer(client, make_user, db, "org@lagc.eu", Role.organiser)
