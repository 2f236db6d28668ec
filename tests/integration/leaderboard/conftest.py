"""Fixtures for the leaderboard tests: the board challenge (`_board.py`) and a `World` on it whose entries are
accepted and evaluated now, from the Hub."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.factories import World

from ._board import config_text


@pytest.fixture
def board_challenge(db):
    from app.challenges.services import load_config_text
    with db() as session:
        return load_config_text(session, config_text(datetime.now(timezone.utc))).id


@pytest.fixture
def board(db, make_user, board_challenge) -> World:
    return World(db, board_challenge, make_user("uploader@example.eu"), submission_defaults={"source": "hub"})
