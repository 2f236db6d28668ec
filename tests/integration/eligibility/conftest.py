"""Fixtures for the eligibility integration tests: a valid application document and teams with API tokens."""

from __future__ import annotations

import copy

import pytest

from app.accounts.models import Role
from tests.factories import APPLICATION
from tests.helpers import bearer


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
