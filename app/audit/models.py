"""The append-only audit log: every decision and every privileged act leaves an event."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, event
from sqlmodel import Field, SQLModel

from app.db import utcnow


class AuditEvent(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    challenge_id: Optional[int] = Field(default=None, foreign_key="challenge.id", index=True)
    action: str = Field(max_length=80, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: Optional[str] = Field(default=None, max_length=80)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")
