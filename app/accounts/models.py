"""Accounts: people, their role, judge/organiser invitations, API tokens and second factors."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Role(str, Enum):
    """What a person does in the challenge; it decides which pages and API routes they may use."""

    entrant = "entrant"
    judge = "judge"
    organiser = "organiser"


class UserBase(SQLModel):
    email: str = Field(max_length=254, index=True, unique=True)
    display_name: str = Field(max_length=120)
    role: Role = Field(default=Role.entrant, max_length=20)


class User(UserBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: Optional[datetime] = None

    # Flask-Login protocol, spelled out so the table model stays a plain SQLModel.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Invitation(SQLModel, table=True):
    """An organiser's invitation for a judge or organiser; the link carries a token stored only as a hash."""

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    role: Role = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None


class SignUpRequest(SQLModel, table=True):
    """A sign-up waiting for its address: the scheduler e-mails the address a link that creates the account
    (`app.accounts.signup`), or tells the owner of an address that already has one. The page answers alike in
    both cases, so it never reveals who has an account. Deleted a day after it expires."""

    __tablename__ = "sign_up_request"

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    mailed_at: Optional[datetime] = Field(default=None, index=True)
    completed_at: Optional[datetime] = None


class ApiToken(SQLModel, table=True):
    """A personal API token for scripted use: shown once, stored as its SHA-256, revocable."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None


class TotpCredential(SQLModel, table=True):
    """A person's authenticator secret (encrypted with a key derived from SECRET_KEY); active once confirmed.

    `last_used_step` is the latest 30-second step a code was accepted for, so a code is never accepted twice."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    secret_encrypted: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: Optional[datetime] = None
    last_used_step: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class RecoveryCode(SQLModel, table=True):
    """A one-time code that replaces an authenticator code once (lost phone); stored as its SHA-256."""

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: Optional[datetime] = None
