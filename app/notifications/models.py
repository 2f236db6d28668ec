"""Notifications, each person's preferences, and the audit-log watermark the scheduler reads from."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Notification(SQLModel, table=True):
    """One message to one person: shown on the dashboard and (if they want it) sent by e-mail.

    `dedupe_key` makes creating it idempotent: `audit:<event id>:<user id>` or `deadline:phase:<id>:<user id>`.
    `email_state` is queued | sent | failed | skipped (the person does not want this kind by e-mail).
    A message to an address without an account (the link that creates one) has no `recipient_id` but an
    `address`, and is never on a dashboard.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    recipient_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    address: Optional[str] = Field(default=None, max_length=254)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    dedupe_key: str = Field(max_length=120, unique=True)
    audit_event_id: Optional[int] = Field(default=None)  # no foreign key: the notification may outlive nothing
    created_at: datetime = Field(default_factory=utcnow, index=True)
    on_dashboard: bool = Field(default=True)
    read_at: Optional[datetime] = None
    email_state: str = Field(default="queued", max_length=10, index=True)
    attempts: int = Field(default=0)
    last_error: Optional[str] = Field(default=None, max_length=500)
    next_attempt_at: Optional[datetime] = None
    sent_at: Optional[datetime] = None


class NotificationPreference(SQLModel, table=True):
    """A person's choice for one kind; without a row, the kind's defaults apply."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    kind: str = Field(max_length=40, primary_key=True)
    email: bool = Field(default=True)
    dashboard: bool = Field(default=True)


class NotificationCursor(SQLModel, table=True):
    """How far the scheduler has read the audit log: every event up to `last_event_id` is handled."""

    name: str = Field(primary_key=True, max_length=40)
    last_event_id: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)
