"""Challenges and their phases, as loaded from a challenge configuration file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Challenge(SQLModel, table=True):
    """One hosted challenge; `config_text` is the configuration file it was loaded from, kept verbatim."""

    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    call_date: date
    config_text: str = Field(sa_column=Column(Text, nullable=False))
    config_sha256: str = Field(max_length=64)
    loaded_at: datetime = Field(default_factory=utcnow)


class Phase(SQLModel, table=True):
    """A phase of a challenge (registration, submission, evaluation, judging, award), dates in UTC."""

    __table_args__ = (UniqueConstraint("challenge_id", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=120)
    position: int
    starts_at: datetime
    ends_at: datetime
