"""Fixtures for the leaderboard tests: the board challenge (`_board.py`) and a `World` on it whose entries are
accepted and evaluated now, from the Hub."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.factories import World

from ._board import HIDDEN, config_text


@pytest.fixture
def board_challenge(db):
    from app.challenges.services import load_config_text

    with db() as session:
        return load_config_text(session, config_text(datetime.now(timezone.utc))).id


@pytest.fixture
def board(db, make_user, board_challenge) -> World:
    return World(db, board_challenge, make_user("uploader@example.eu"), submission_defaults={"source": "hub"})


@pytest.fixture
def publish(db, settings):
    """`publish()` does what the scheduler does when results change: recompute the snapshots, then announce
    them to every web worker (`leaderboard.jobs.refresh_leaderboards`)."""
    from leaderboard.jobs import refresh_leaderboards

    def run() -> None:
        with db() as session:
            refresh_leaderboards(session, settings)

    return run


@pytest.fixture
def entries(board, publish) -> dict[str, int]:
    """Three entries on the board (two scored on the hidden task, one under review), published; team ids by
    name."""
    se = 0.02
    ids = {
        "Team A": board.entry("Team A", {"arc_easy": (0.625, se), "boolq": (0.75, se), HIDDEN: (0.6123, se)}),
        "Team B": board.entry(
            "Team B", {"arc_easy": (0.85, se), "boolq": (0.9, se), HIDDEN: (0.4, se)}, licence="review"
        ),
        "Team C": board.entry("Team C", {"arc_easy": (0.5, se), "boolq": (0.5, se)}),
    }
    publish()
    return ids
