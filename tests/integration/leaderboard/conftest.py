"""Fixtures for the leaderboard tests (helpers in `_board.py`)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ._board import Board, config_text


@pytest.fixture
def board_challenge(db):
    from app.challenges.services import load_config_text
    with db() as session:
        return load_config_text(session, config_text(datetime.now(timezone.utc))).id


@pytest.fixture
def board(db, make_user, board_challenge) -> Board:
    return Board(db, board_challenge, make_user("uploader@example.eu"))
