"""Licence test fixtures: a team with an accepted submission, and FakeHub (`tests/fakehub.py`, a real local
HTTP server speaking the Hub calls huggingface_hub makes; the Hugging Face Hub cannot be reached from here)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.fakehub import FakeHub


@pytest.fixture
def make_team(db, make_user, challenge):
    """`make_team(email, name)`: an entrant, their team in the 2024 challenge and one accepted submission (no
    licence verdict yet); returns their ids, the e-mail and the slug."""

    def make(email: str, name: str, slug: str = challenge) -> dict:
        user_id = make_user(email)
        with db() as session:
            team = factories.registered_team(session, user_id, slug, name)
            session.flush()
            submission = factories.submission(
                session,
                team.challenge_id,
                team.id,
                user_id,
                label=f"{name} 7B",
                licence_verdict=None,
                parameters=None,
                accepted_at=None,
            )
            return {
                "user_id": user_id,
                "email": email,
                "team_id": team.id,
                "submission_id": submission.id,
                "challenge_id": team.challenge_id,
                "slug": slug,
            }

    return make


@pytest.fixture
def entrant_team(make_team):
    """An entrant (ana@example.eu) with a team in the 2024 challenge and one accepted submission."""
    return make_team("ana@example.eu", "Aurora Labs")


@pytest.fixture
def fake_hub():
    """A running FakeHub, stopped after the test."""
    hub = FakeHub()
    hub.thread.start()
    yield hub
    hub.stop()
