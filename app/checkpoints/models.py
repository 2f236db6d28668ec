"""Submissions: a team's checkpoint, uploaded or referenced on the Hugging Face Hub, pinned once accepted."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class SubmissionSource(str, Enum):
    upload = "upload"
    hub = "hub"


class SubmissionStatus(str, Enum):
    """receiving (files arriving / downloading) -> validating -> accepted | rejected."""

    receiving = "receiving"
    validating = "validating"
    accepted = "accepted"
    rejected = "rejected"


class Submission(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    submitted_by_id: int = Field(foreign_key="user.id")
    label: str = Field(max_length=120)
    source: SubmissionSource = Field(max_length=10)
    status: SubmissionStatus = Field(default=SubmissionStatus.receiving, max_length=12, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: Optional[datetime] = None
    hub_repo: Optional[str] = Field(default=None, max_length=200)
    hub_revision: Optional[str] = Field(default=None, max_length=200)
    hub_commit: Optional[str] = Field(default=None, max_length=64)
    # Recorded from the safetensors headers at validation; BigInteger: 30B parameters overflow 32 bits.
    parameters: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    total_bytes: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    dtypes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    manifest: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{name, bytes, sha256}]
    findings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # {errors, warnings}
    licence_verdict: Optional[str] = Field(default=None, max_length=10)  # pass | review | fail
    licence_id: Optional[str] = Field(default=None, max_length=200)
    licence_reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    finalised_at: Optional[datetime] = None  # the entrant said "all files are here" (or the Hub files arrived)
    decided_at: Optional[datetime] = None  # accepted or rejected
    # A Hub token, Fernet-encrypted with a key derived from SECRET_KEY; erased once the download ends.
    hub_token_encrypted: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class Upload(SQLModel, table=True):
    """One tus upload: one file of a submission, arriving in chunks into `storage/uploads/<id>.part`.

    The row disappears once its file is stored as a blob (the submission's manifest then records it)
    or when the upload is terminated, refused or abandoned.
    """

    __table_args__ = (UniqueConstraint("submission_id", "filename"),)

    id: str = Field(primary_key=True, max_length=32)  # random hex, the last part of the upload URL
    submission_id: int = Field(foreign_key="submission.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    filename: str = Field(max_length=255)
    length: int = Field(sa_column=Column(BigInteger, nullable=False))
    offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    declared_sha256: Optional[str] = Field(default=None, max_length=64)  # the client's, checked at the end
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
