"""Registering teams and finding a person's team."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.services import record
from app.challenges.models import Challenge
from app.teams.models import Team, TeamMembership


class TeamError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def team_of(session: Session, user: User, challenge_id: int) -> Optional[Team]:
    """The person's team in a challenge, if any."""
    return session.exec(select(Team).join(TeamMembership, TeamMembership.team_id == Team.id)
                        .where(TeamMembership.user_id == user.id,
                               TeamMembership.challenge_id == challenge_id)).first()


def teams_of(session: Session, user: User) -> list[Team]:
    return list(session.exec(select(Team).join(TeamMembership, TeamMembership.team_id == Team.id)
                             .where(TeamMembership.user_id == user.id)).all())


def team_ids_of(session: Session, user: User) -> set[int]:
    return {t.id for t in teams_of(session, user)}


def register_team(session: Session, user: User, challenge: Challenge, name: str) -> Team:
    """Register a start-up's team; an entrant may own or belong to one team per challenge."""
    name = " ".join(name.split())
    if Role(user.role) is not Role.entrant:
        raise TeamError("Only entrants register teams.")
    if not 2 <= len(name) <= 120:
        raise TeamError("The team name must be 2 to 120 characters.", "name")
    if team_of(session, user, challenge.id) is not None:
        raise TeamError("You already belong to a team in this challenge.")
    taken = session.exec(select(Team).where(Team.challenge_id == challenge.id, Team.name == name)).first()
    if taken is not None:
        raise TeamError("Another team in this challenge already has this name.", "name")
    team = Team(name=name, challenge_id=challenge.id)
    session.add(team)
    session.flush()
    session.add(TeamMembership(team_id=team.id, user_id=user.id, challenge_id=challenge.id, is_owner=True))
    record(session, "team.registered", "team", team.id, actor_id=user.id, challenge_id=challenge.id, name=name)
    return team
