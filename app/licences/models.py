"""Licence decisions kept in the database: organisers' resolutions of reviews, and winners' release obligations."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, Column, Text, event
from sqlmodel import Field, SQLModel

from app.db import utcnow


class LicenceResolution(SQLModel, table=True):
    """An organiser's decision on a submission in licence review; append-only, the latest one counts."""

    id: Optional[int] = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    outcome: str = Field(max_length=10)  # pass | fail
    justification: str = Field(sa_column=Column(Text, nullable=False))
    organiser_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)


class ResolutionsAreAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an organiser's resolution."""


@event.listens_for(LicenceResolution, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise ResolutionsAreAppendOnly(f"licence resolution {target.id} cannot be changed")


@event.listens_for(LicenceResolution, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    raise ResolutionsAreAppendOnly(f"licence resolution {target.id} cannot be deleted")


class ObligationStatus(str, Enum):
    pending = "pending"
    met = "met"
    overdue = "overdue"


class ObligationKind(str, Enum):
    weights = "weights"
    publication = "publication"


class ReleaseObligation(SQLModel, table=True):
    """A winner's duty to release the weights (a public Hub repo at a pinned commit) or publish, by a deadline.

    `award_ref` is a plain reference to the prize award until that feature exists.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    award_ref: Optional[str] = Field(default=None, max_length=80)
    deadline: datetime = Field(index=True)
    status: ObligationStatus = Field(default=ObligationStatus.pending, max_length=10, index=True)
    kind: Optional[ObligationKind] = Field(default=None, max_length=12)
    hub_repo: Optional[str] = Field(default=None, max_length=200)
    hub_revision: Optional[str] = Field(default=None, max_length=200)
    hub_commit: Optional[str] = Field(default=None, max_length=64)
    release_verdict: Optional[str] = Field(default=None, max_length=10)  # pass | review | fail
    release_licence: Optional[str] = Field(default=None, max_length=200)
    release_reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    publication_id: Optional[str] = Field(default=None, max_length=200)
    declared_at: Optional[datetime] = None
    accepted_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    accepted_at: Optional[datetime] = None
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
