"""Eligibility applications (every version kept, never changed) and the organisers' decisions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app.db import utcnow

DECISION_KINDS = ("experience_confirmed", "override")


class EligibilityApplication(SQLModel, table=True):
    """One version of a team's application: the normalised document and the engine's verdict when it came in."""

    __tablename__ = "eligibility_application"
    __table_args__ = (UniqueConstraint("team_id", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    version: int
    document: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    verdict: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20)
    submitted_by: int = Field(foreign_key="user.id")
    submitted_at: datetime = Field(default_factory=utcnow)


class EligibilityDecision(SQLModel, table=True):
    """An organiser's decision on one application version (append-only): a confirmation or an override."""

    __tablename__ = "eligibility_decision"

    id: Optional[int] = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="eligibility_application.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    kind: str = Field(max_length=30)
    status: str = Field(max_length=20)
    justification: str = Field(default="", sa_column=Column(Text, nullable=False))
    organiser_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)


class EligibilityRecordIsFinal(RuntimeError):
    """Raised when code tries to change an application version or a decision: new facts get new rows."""


@event.listens_for(EligibilityApplication, "before_update")
@event.listens_for(EligibilityDecision, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise EligibilityRecordIsFinal(f"{type(target).__name__} {target.id} cannot be changed")
