"""Organiser console fixtures: a signed-in organiser (the configuration editor's form helpers are in
`tests/helpers.py`)."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests.helpers import sign_in


@pytest.fixture
def organiser(client, make_user):
    """The test client, signed in as an organiser (with the second factor)."""
    make_user("olga@lagc.eu", Role.organiser)
    sign_in(client, "olga@lagc.eu")
    return client
