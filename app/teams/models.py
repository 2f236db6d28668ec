"""Teams (the start-ups) and who belongs to them; one team per entrant per challenge."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class TeamBase(SQLModel):
    name: str = Field(max_length=120)


class Team(TeamBase, table=True):
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    # Organisers' reference models are entered as baseline teams: scored like entries, never winners.
    is_baseline: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class TeamMembership(SQLModel, table=True):
    """`challenge_id` is repeated here so the database itself enforces one team per entrant per challenge."""

    __table_args__ = (UniqueConstraint("user_id", "challenge_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    challenge_id: int = Field(foreign_key="challenge.id")
    is_owner: bool = Field(default=False)
    joined_at: datetime = Field(default_factory=utcnow)
