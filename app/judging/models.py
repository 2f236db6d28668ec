"""Judging: who judges which entry, declared conflicts, the judges' score sheets and the lock.

An entry is a team of a challenge (its counted evaluation, `evaluation.counted`, is what the judges look at).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class JudgeAssignment(SQLModel, table=True):
    """An organiser's assignment of a judge to an entry; removed when the judge declares a conflict."""

    __tablename__ = "judge_assignment"
    __table_args__ = (UniqueConstraint("challenge_id", "judge_id", "team_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    judge_id: int = Field(foreign_key="user.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    assigned_by: Optional[int] = Field(default=None, foreign_key="user.id")
    assigned_at: datetime = Field(default_factory=utcnow)


class ConflictDeclaration(SQLModel, table=True):
    """A judge's declared conflict of interest with a team (append-only): the judge is recused from it."""

    __tablename__ = "conflict_declaration"

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    judge_id: int = Field(foreign_key="user.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    declared_at: datetime = Field(default_factory=utcnow)


class RubricScoreSheet(SQLModel, table=True):
    """One judge's rubric scores for one entry, with private notes; revisable until judging is locked.

    `submitted_at` is the first submission (from then on the judge sees the other judges' scores);
    `updated_at` the latest revision.
    """

    __tablename__ = "rubric_score_sheet"
    __table_args__ = (UniqueConstraint("challenge_id", "judge_id", "team_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    judge_id: int = Field(foreign_key="user.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    scores: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class JudgingLock(SQLModel, table=True):
    """The organisers' finalisation of a challenge's judging: scores locked, then published."""

    __tablename__ = "judging_lock"

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", unique=True)
    locked_at: datetime = Field(default_factory=utcnow)
    locked_by: Optional[int] = Field(default=None, foreign_key="user.id")
    published_at: Optional[datetime] = None
    published_by: Optional[int] = Field(default=None, foreign_key="user.id")
