"""The demo gets a populated board: the `synthetic` challenge with 120 synthetic teams (once; idempotent)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from app.challenges.models import Challenge
from app.challenges.services import get_challenge
from app.db import utcnow
from app.settings import Settings
from app.teams.models import Team
from leaderboard.seed import SLUG, seed

DEMO_TEAMS = 120


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Seed the synthetic challenge unless it already has teams (`flask demo seed` refills it at any size)."""
    existing = get_challenge(session, SLUG)
    if (
        existing is not None
        and session.execute(select(func.count(Team.id)).where(Team.challenge_id == existing.id)).scalar()
    ):
        return
    seed(session, DEMO_TEAMS, now=utcnow())
