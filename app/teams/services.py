"""Registering teams and finding a person's team."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.services import record
from app.challenges.models import Challenge
from app.challenges.services import PhaseClosed, phase_gate, require_phase
from app.db import lock_row
from app.errors import DomainError, Kind
from app.teams.models import Team, TeamMembership
from app.visible import hidden_character_problem


class TeamError(DomainError, ValueError):
    """A registration that cannot be made: invalid when a field is at fault, else a conflict (a team already,
    a closed phase, not an entrant). `phase_closed`: the challenge's phases do not allow registering now."""

    def __init__(self, message: str, field: str | None = None, phase_closed: bool = False):
        super().__init__(message, kind=Kind.invalid if field else Kind.conflict, field=field)
        self.phase_closed = phase_closed


def team_of(session: Session, user: User, challenge_id: int) -> Optional[Team]:
    """The person's team in a challenge, if any."""
    return session.exec(
        select(Team)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user.id, TeamMembership.challenge_id == challenge_id)
    ).first()


def no_team_reason(challenge: Challenge, then: str, now: Optional[datetime] = None) -> str:
    """Why an entrant without a team in `challenge` cannot act yet, in words: register first (and `then`
    what they can do), or, when the phases do not allow registering now, the phase gate's reason, so that
    nobody is sent to a registration that would refuse them."""
    gate = phase_gate(challenge, "register", now)
    if gate.allowed:
        return f"Register a team for {challenge.name} on your dashboard first; then {then}."
    return f"You have no team in {challenge.name}. {gate.reason}"


def teams_of(session: Session, user: User) -> list[Team]:
    return list(
        session.exec(
            select(Team)
            .join(TeamMembership, TeamMembership.team_id == Team.id)
            .where(TeamMembership.user_id == user.id)
        ).all()
    )


def team_ids_of(session: Session, user: User) -> set[int]:
    return {t.id for t in teams_of(session, user)}


def register_team(
    session: Session, user: User, challenge: Challenge, name: str, now: Optional[datetime] = None
) -> Team:
    """Register a start-up's team; an entrant may own or belong to one team per challenge, while the
    challenge's phases allow registering (`now`: the moment to judge that by, default the present)."""
    name = " ".join(name.split())
    if Role(user.role) is not Role.entrant:
        raise TeamError("Only entrants register teams.")
    try:
        require_phase(challenge, "register", now)
    except PhaseClosed as closed:
        raise TeamError(str(closed), phase_closed=True) from None
    if not 2 <= len(name) <= 120:
        raise TeamError("The team name must be 2 to 120 characters.", "name")
    hidden = hidden_character_problem(name, "The team name")
    if hidden:
        raise TeamError(hidden, "name")
    lock_row(session, Challenge, challenge.id)  # registrations take turns: each sees the teams before it
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
