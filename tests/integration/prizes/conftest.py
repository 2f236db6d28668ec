"""Prize fixtures: the prize test challenge (`tests.factories.prize_config_text`: a one-task suite and a
two-winner prize) and `world`, a `PrizeWorld` that inserts the award's inputs directly (teams, eligibility,
accepted submissions, finished evaluations and results, judges' sheets, the judging lock and the board freeze),
the way the other features would have left them.

Final score = 0.6 x benchmark + 0.4 x judges. Every entry gets the same judges' sheet, so the order follows
the benchmark: arc (chance 0.25) raw 0.85 -> 0.80, 0.70 -> 0.60, 0.55 -> 0.40, 0.40 -> 0.20.
"""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests.factories import PrizeWorld, prize_world


@pytest.fixture
def people(make_user) -> dict[str, int]:
    return {
        "organiser": make_user("olga@example.eu", Role.organiser),
        "judge": make_user("jonas@example.eu", Role.judge),
        "entrant": make_user("aino@example.eu", Role.entrant),
    }


@pytest.fixture
def world(db, people) -> PrizeWorld:
    return prize_world(db, people)


@pytest.fixture
def four_entries(world) -> dict[str, int]:
    """Aurora 0.80, Baltic 0.60 (benchmark), a baseline 0.70 and Iberia 0.40; all eligible, licences pass."""
    return {
        "Aurora": world.entry("Aurora", 0.85),
        "Reference": world.entry("Reference", 0.775, baseline=True),
        "Baltic": world.entry("Baltic", 0.70),
        "Iberia": world.entry("Iberia", 0.55),
    }
